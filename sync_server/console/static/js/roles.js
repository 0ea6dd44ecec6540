// Roles: the built-in ones (read-only, from common/permissions.py) and the organization's custom
// roles, created and edited with the permission catalogue's checkboxes.
import { api, orgPath } from "./api.js";
import { permissions, sensitiveOf, sensitiveWarning } from "./catalogue.js";
import { alertBox, checkbox, clear, confirmAction, field, h, openDialog, refocus, showError } from "./dom.js";

const ROLE_NAME = /^[a-z][a-z0-9_]*$/;

function permissionCell(perms, catalogue) {
  if (perms.length === 0) return h("span", { class: "hint", text: "no permissions" });
  const sensitive = new Set(sensitiveOf(perms, catalogue));
  return h(
    "div",
    { class: "chips" },
    perms.map((p) => h("span", { class: sensitive.has(p) ? "chip sensitive" : "chip", title: describe(p, catalogue) }, p)),
  );
}

function describe(name, catalogue) {
  const found = catalogue.find((p) => p.name === name);
  return found ? found.description : "";
}

function permissionChecks(catalogue, selected) {
  const boxes = [];
  const warning = h("div", { class: "warning", role: "status" });
  const update = () => {
    warning.textContent = sensitiveWarning(sensitiveOf(boxes.filter((b) => b.checked).map((b) => b.value), catalogue));
  };
  const modules = [...new Set(catalogue.map((p) => p.module))];
  const groups = modules.map((module) =>
    h(
      "fieldset",
      {},
      h("legend", { text: module }),
      catalogue
        .filter((p) => p.module === module)
        .map((p) => {
          const note = p.held_by_admin ? p.description : `${p.description} (not held by admin; granting it is audited)`;
          const { label, input } = checkbox(p.name, note, { name: "permission", value: p.name, checked: selected.has(p.name) });
          input.addEventListener("change", update);
          boxes.push(input);
          return label;
        }),
    ),
  );
  update();
  return {
    node: [warning, h("div", { class: "perm-groups" }, groups)],
    chosen: () => boxes.filter((b) => b.checked).map((b) => b.value),
  };
}

export async function renderRoles(container, { org, focus }) {
  const heading = h("h1", { tabindex: "-1", text: "Roles" });
  const create = h("button", { type: "button", class: "primary", text: "New custom role", disabled: true });
  const notice = h("div", { class: "notice", role: "status" });
  const error = alertBox();
  const custom = h("section", { "aria-labelledby": "custom-roles" });
  const builtin = h("section", { "aria-labelledby": "builtin-roles" });
  container.append(
    h("div", { class: "page-head" }, heading, h("div", { class: "actions" }, create)),
    notice,
    error,
    h("p", { class: "hint", text: "Loading roles…" }),
    custom,
    builtin,
  );
  if (focus) heading.focus();
  let roles = [];
  let catalogue = [];
  const say = (text) => {
    notice.textContent = text;
    error.textContent = "";
  };

  async function load() {
    try {
      const [list, perms] = await Promise.all([api("GET", orgPath(org.org_id, "/roles")), permissions()]);
      roles = list.roles;
      catalogue = perms;
      create.disabled = false;
      container.querySelector("p.hint")?.remove();
      draw();
    } catch (problem) {
      showError(error, problem);
    }
  }

  function table(label, list, withActions) {
    const head = [
      h("th", { scope: "col", text: "Role" }),
      h("th", { scope: "col", text: "Description" }),
      h("th", { scope: "col", text: "Permissions" }),
      withActions ? h("th", { scope: "col" }, h("span", { class: "sr-only", text: "Actions" })) : null,
    ];
    const rows = list.map((role) =>
      h(
        "tr",
        { "data-role": role.name },
        h("td", { class: "nowrap" }, h("code", { text: role.name })),
        h("td", { text: role.description || "—" }),
        h("td", {}, permissionCell(role.permissions, catalogue)),
        withActions
          ? h(
              "td",
              { class: "actions" },
              h("button", { type: "button", class: "link", text: "Edit", "aria-label": `Edit role ${role.name}`, onclick: () => edit(role) }),
              h("button", { type: "button", class: "link danger", text: "Delete", "aria-label": `Delete role ${role.name}`, onclick: () => remove(role) }),
            )
          : null,
      ),
    );
    return h("div", { class: "table-wrap" }, h("table", { "aria-label": label }, h("thead", {}, h("tr", {}, head)), h("tbody", {}, rows)));
  }

  function draw() {
    const mine = roles.filter((r) => !r.builtin);
    clear(
      custom,
      h("h2", { id: "custom-roles", text: `Custom roles of ${org.org_name}` }),
      mine.length
        ? table("Custom roles", mine, true)
        : h(
            "div",
            { class: "empty" },
            "No custom roles yet. The built-in roles cover the usual jobs; create a custom role when someone needs a different set of permissions.",
          ),
    );
    clear(
      builtin,
      h("h2", { id: "builtin-roles", text: "Built-in roles" }),
      h("p", { class: "hint", text: "The same in every organization; they cannot be changed." }),
      table("Built-in roles", roles.filter((r) => r.builtin), false),
    );
  }

  async function edit(role) {
    const isNew = role === null;
    const name = field("Name", { type: "text", name: "name", value: isNew ? "" : role.name, readOnly: !isNew, maxlength: "64", autocomplete: "off" }, isNew ? "Lowercase letters (a–z), digits and underscores, starting with a letter. It cannot be changed later." : "A role's name cannot be changed.");
    const description = field("Description", { tag: "textarea", name: "description", maxlength: "500" });
    description.input.value = isNew ? "" : role.description;
    const checks = permissionChecks(catalogue, new Set(isNew ? [] : role.permissions));
    const saved = await openDialog({
      title: isNew ? "New custom role" : `Edit role ${role.name}`,
      description: isNew ? null : "Members holding this role get the new permissions with their very next request.",
      body: [name.field, description.field, checks.node],
      submitLabel: isNew ? "Create role" : "Save role",
      onSubmit: async () => {
        const roleName = name.input.value.trim();
        if (!ROLE_NAME.test(roleName)) {
          name.input.focus();
          throw new Error("name: use lowercase ASCII letters (a-z), digits and underscores, starting with a letter");
        }
        if (isNew && roles.some((r) => r.name === roleName)) {
          name.input.focus();
          throw new Error(`name: there is already a role called ${roleName}`);
        }
        const answer = await api("PUT", orgPath(org.org_id, `/roles/${encodeURIComponent(roleName)}`), {
          description: description.input.value,
          permissions: checks.chosen(),
        });
        return { answer, roleName };
      },
    });
    if (saved === null) return;
    roles = saved.answer.roles;
    draw();
    refocus(custom, `Edit role ${saved.roleName}`, heading);
    say(isNew ? `Created the role ${saved.roleName}.` : `Saved the role ${saved.roleName}.`);
  }

  async function remove(role) {
    const done = await confirmAction({
      title: `Delete the role ${role.name}?`,
      description: "Members holding it lose its permissions at once. This cannot be undone, but it is recorded in the audit trail.",
      confirmLabel: "Delete role",
      action: async () => {
        await api("DELETE", orgPath(org.org_id, `/roles/${encodeURIComponent(role.name)}`));
        return true;
      },
    });
    if (done === null) return;
    roles = roles.filter((r) => r.name !== role.name);
    draw();
    heading.focus();
    say(`Deleted the role ${role.name}.`);
  }

  create.addEventListener("click", () => edit(null));
  await load();
}
