// Members: who belongs to the organization, with which roles; add, change roles, sign out
// everywhere, remove. Everything here needs admin.users, which the server checks.
import { api, orgPath } from "./api.js";
import { permissions, roleChip, sensitiveOf, sensitiveWarning } from "./catalogue.js";
import { alertBox, checkbox, clear, confirmAction, field, h, openDialog, refocus, showError } from "./dom.js";

const MIN_PASSWORD = 8;

function roleChecks(roles, catalogue, selected) {
  const boxes = [];
  const warning = h("div", { class: "warning", role: "status" });
  const byName = new Map(roles.map((r) => [r.name, r]));
  const update = () => {
    const granted = new Set(boxes.filter((b) => b.checked).flatMap((b) => byName.get(b.value).permissions));
    warning.textContent = sensitiveWarning(sensitiveOf([...granted].sort(), catalogue));
  };
  const group = (title, list) => {
    if (list.length === 0) return null;
    return h(
      "fieldset",
      {},
      h("legend", { text: title }),
      list.map((role) => {
        const what = [role.description, role.description ? " · " : "", role.permissions.join(", ") || "no permissions"];
        const { label, input } = checkbox(role.name, what, { name: "role", value: role.name, checked: selected.has(role.name) });
        input.addEventListener("change", update);
        boxes.push(input);
        return label;
      }),
    );
  };
  const node = [
    warning,
    group("Built-in roles", roles.filter((r) => r.builtin)),
    group("Custom roles", roles.filter((r) => !r.builtin)),
  ];
  update();
  return { node, chosen: () => boxes.filter((b) => b.checked).map((b) => b.value) };
}

export async function renderMembers(container, { org, user, focus, reloadMemberships }) {
  const heading = h("h1", { tabindex: "-1", text: "Members" });
  const count = h("span", { class: "count" });
  const add = h("button", { type: "button", class: "primary", text: "Add member", disabled: true });
  const notice = h("div", { class: "notice", role: "status" });
  const error = alertBox();
  const body = h("div", {}, h("p", { class: "hint", text: "Loading members…" }));
  container.append(h("div", { class: "page-head" }, heading, count, h("div", { class: "actions" }, add)), notice, error, body);
  if (focus) heading.focus();

  let roles = [];
  let catalogue = [];
  let members = [];

  const say = (text) => {
    notice.textContent = text;
    error.textContent = "";
  };
  // After a change to one's own membership the console follows what the server now says.
  const followOwnChange = async (member) => {
    if (member.user_id !== user.id) return;
    try {
      await reloadMemberships();
    } catch (problem) {
      showError(error, problem); // harmless if the session ended: the sign-in page replaced us
    }
  };

  async function load() {
    try {
      const [roleList, memberList, perms] = await Promise.all([
        api("GET", orgPath(org.org_id, "/roles")),
        api("GET", orgPath(org.org_id, "/members")),
        permissions(),
      ]);
      roles = roleList.roles;
      members = memberList.members;
      catalogue = perms;
      add.disabled = false;
      draw();
    } catch (problem) {
      showError(error, problem);
      clear(body);
    }
  }

  function draw() {
    count.textContent = members.length === 1 ? "1 member" : `${members.length} members`;
    if (members.length === 0) {
      clear(body, h("div", { class: "empty", text: "This organization has no members yet. Add one with “Add member”." }));
      return;
    }
    const byName = new Map(roles.map((r) => [r.name, r]));
    const rows = members.map((member) => {
      const self = member.user_id === user.id;
      return h(
        "tr",
        { "data-email": member.email },
        h("td", {}, member.name, self ? h("span", { class: "you", text: " (you)" }) : null),
        h("td", { class: "email", text: member.email }),
        h(
          "td",
          { class: "roles" },
          member.roles.length
            ? h("div", { class: "chips" }, member.roles.map((name) => roleChip(name, byName.get(name), catalogue)))
            : h("span", { class: "hint", text: "no roles" }),
        ),
        h(
          "td",
          { class: "actions" },
          h("button", { type: "button", class: "link", text: "Roles…", "aria-label": `Change roles of ${member.email}`, onclick: () => editRoles(member) }),
          h("button", { type: "button", class: "link", text: "Sign out everywhere", "aria-label": `Sign ${member.email} out everywhere`, onclick: () => endSessions(member) }),
          h("button", { type: "button", class: "link danger", text: "Remove", "aria-label": `Remove ${member.email}`, onclick: () => remove(member) }),
        ),
      );
    });
    clear(
      body,
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { "aria-label": `Members of ${org.org_name}` },
          h("thead", {}, h("tr", {}, h("th", { scope: "col", text: "Name" }), h("th", { scope: "col", text: "E-mail" }), h("th", { scope: "col", text: "Roles" }), h("th", { scope: "col" }, h("span", { class: "sr-only", text: "Actions" })))),
          h("tbody", {}, rows),
        ),
      ),
    );
  }

  async function editRoles(member) {
    const checks = roleChecks(roles, catalogue, new Set(member.roles));
    const saved = await openDialog({
      title: `Roles of ${member.name}`,
      description: `${member.email} gets the permissions of every role ticked here, in ${org.org_name} only.`,
      body: checks.node,
      submitLabel: "Save roles",
      onSubmit: async () => {
        const chosen = checks.chosen();
        const answer = await api("PUT", orgPath(org.org_id, `/members/${encodeURIComponent(member.user_id)}/roles`), { roles: chosen });
        return { answer, chosen };
      },
    });
    if (saved === null) return;
    members = saved.answer.members;
    draw();
    refocus(body, `Change roles of ${member.email}`, heading);
    say(`Roles of ${member.email}: ${saved.chosen.length ? saved.chosen.slice().sort().join(", ") : "none"}.`);
    await followOwnChange(member);
  }

  async function endSessions(member) {
    const done = await confirmAction({
      title: `Sign ${member.name} out everywhere?`,
      description:
        `Every session of ${member.email}, on every device, ends now. They can sign in again with their password. ` +
        "Desktop workstations keep their unsynced work and sync it after the next sign-in.",
      confirmLabel: "Sign out everywhere",
      action: () => api("DELETE", orgPath(org.org_id, `/members/${encodeURIComponent(member.user_id)}/sessions`)),
    });
    if (done === null) return;
    const n = done.sessions_ended;
    say(`${member.email} was signed out everywhere (${n === 1 ? "1 session" : `${n} sessions`} ended).`);
    await followOwnChange(member); // our own session has ended too
  }

  async function remove(member) {
    const done = await confirmAction({
      title: `Remove ${member.name} from ${org.org_name}?`,
      description:
        `${member.email} loses access to ${org.org_name} at once. Their account stays (they may belong to other ` +
        "organizations), and so does everything they did, in the audit trail.",
      confirmLabel: "Remove member",
      action: async () => {
        await api("DELETE", orgPath(org.org_id, `/members/${encodeURIComponent(member.user_id)}`));
        return true;
      },
    });
    if (done === null) return;
    members = members.filter((m) => m.user_id !== member.user_id);
    draw();
    heading.focus();
    say(`${member.email} was removed from ${org.org_name}.`);
    await followOwnChange(member);
  }

  async function addMember() {
    const email = field("E-mail address", { type: "email", name: "email", autocomplete: "off", required: true });
    const name = field("Name", { type: "text", name: "name", autocomplete: "off", maxlength: "200" }, "Needed only for a new account.");
    const password = field("Initial password", { type: "password", name: "password", autocomplete: "new-password" }, `At least ${MIN_PASSWORD} characters. Needed only for a new account; tell it to the person privately.`);
    const repeat = field("Repeat the initial password", { type: "password", name: "password2", autocomplete: "new-password" });
    const checks = roleChecks(roles, catalogue, new Set(["employee"]));
    const added = await openDialog({
      title: `Add a member to ${org.org_name}`,
      description:
        "If someone already has an account with this e-mail address, that account becomes a member and keeps its own password. " +
        "Otherwise a new account is created with the name and initial password below.",
      body: [email.field, name.field, password.field, repeat.field, checks.node],
      submitLabel: "Add member",
      onSubmit: async () => {
        if (password.input.value !== repeat.input.value) {
          repeat.input.focus();
          throw new Error("The two passwords are not the same.");
        }
        if (password.input.value && password.input.value.length < MIN_PASSWORD) {
          password.input.focus();
          throw new Error(`The initial password must be at least ${MIN_PASSWORD} characters long.`);
        }
        const request = { email: email.input.value.trim(), roles: checks.chosen() };
        if (name.input.value.trim()) request.name = name.input.value.trim();
        if (password.input.value) request.password = password.input.value;
        return api("POST", orgPath(org.org_id, "/members"), request);
      },
    });
    if (added === null) return;
    members = [...members, added.member].sort((a, b) => a.email.localeCompare(b.email));
    draw();
    refocus(body, `Change roles of ${added.member.email}`, heading);
    say(
      added.created_account
        ? `Created an account for ${added.member.email} and added it to ${org.org_name}.`
        : `${added.member.email} already had an account: it is now a member of ${org.org_name}, with its own password unchanged.`,
    );
  }

  add.addEventListener("click", addMember);
  await load();
}
