// Members: who belongs to the organization, with which roles; invite, change roles, sign out of
// this organization, remove; pending invitations, revoke. Everything here needs admin.users,
// which the server checks. Nobody here ever sets or sees a password: an invited person joins
// with their own account, or creates one, through the invitation link.
import { api, orgPath } from "./api.js";
import { permissions, roleChip, sensitiveOf, sensitiveWarning } from "./catalogue.js";
import { alertBox, checkbox, clear, confirmAction, field, formatTime, h, openDialog, refocus, showError } from "./dom.js";

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
  const add = h("button", { type: "button", class: "primary", text: "Invite member", disabled: true });
  const notice = h("div", { class: "notice", role: "status" });
  const error = alertBox();
  const body = h("div", {}, h("p", { class: "hint", text: "Loading members…" }));
  const invitationsBox = h("section", { class: "invitations", "aria-label": "Invitations" });
  container.append(h("div", { class: "page-head" }, heading, count, h("div", { class: "actions" }, add)), notice, error, body, invitationsBox);
  if (focus) heading.focus();

  let roles = [];
  let catalogue = [];
  let members = [];
  let invitations = [];

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
      const [roleList, memberList, perms, invited] = await Promise.all([
        api("GET", orgPath(org.org_id, "/roles")),
        api("GET", orgPath(org.org_id, "/members")),
        permissions(),
        api("GET", orgPath(org.org_id, "/invitations")),
      ]);
      roles = roleList.roles;
      members = memberList.members;
      invitations = invited.invitations;
      catalogue = perms;
      add.disabled = false;
      draw();
      drawInvitations();
    } catch (problem) {
      showError(error, problem);
      clear(body);
    }
  }

  function draw() {
    count.textContent = members.length === 1 ? "1 member" : `${members.length} members`;
    if (members.length === 0) {
      clear(body, h("div", { class: "empty", text: "This organization has no members yet. Invite one with “Invite member”." }));
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
          h("button", { type: "button", class: "link", text: "Sign out", "aria-label": `Sign ${member.email} out of ${org.org_name}`, onclick: () => endSessions(member) }),
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
      title: `Sign ${member.name} out of ${org.org_name}?`,
      description:
        `${member.email} loses access to ${org.org_name} on every device now, until they sign in again with their password. ` +
        "Their other organizations are not affected. Desktop workstations keep their unsynced work and sync it after the next sign-in.",
      confirmLabel: "Sign out",
      action: () => api("DELETE", orgPath(org.org_id, `/members/${encodeURIComponent(member.user_id)}/sessions`)),
    });
    if (done === null) return;
    say(`${member.email} was signed out of ${org.org_name} on every device.`);
    await followOwnChange(member); // our own access to this organization has ended too
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

  function drawInvitations() {
    if (invitations.length === 0) {
      clear(invitationsBox);
      return;
    }
    const rows = invitations.map((invitation) =>
      h(
        "tr",
        { "data-email": invitation.email },
        h("td", { class: "email", text: invitation.email }),
        h("td", { text: invitation.roles.join(", ") || "no roles" }),
        h("td", { text: invitation.status === "expired" ? "expired" : `until ${formatTime(invitation.expires_at)}` }),
        h(
          "td",
          { class: "actions" },
          h("button", { type: "button", class: "link danger", text: "Revoke", "aria-label": `Revoke the invitation of ${invitation.email}`, onclick: () => revoke(invitation) }),
        ),
      ),
    );
    clear(
      invitationsBox,
      h("h2", { text: "Invitations" }),
      h("p", { class: "hint", text: "Not yet accepted. Each link works once, for its address only." }),
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { "aria-label": `Invitations to ${org.org_name}` },
          h("thead", {}, h("tr", {}, h("th", { scope: "col", text: "E-mail" }), h("th", { scope: "col", text: "Roles" }), h("th", { scope: "col", text: "Valid" }), h("th", { scope: "col" }, h("span", { class: "sr-only", text: "Actions" })))),
          h("tbody", {}, rows),
        ),
      ),
    );
  }

  async function revoke(invitation) {
    const done = await confirmAction({
      title: `Revoke the invitation of ${invitation.email}?`,
      description: "Its link stops working at once. You can invite the address again later.",
      confirmLabel: "Revoke invitation",
      action: async () => {
        await api("DELETE", orgPath(org.org_id, `/invitations/${encodeURIComponent(invitation.id)}`));
        return true;
      },
    });
    if (done === null) return;
    invitations = invitations.filter((i) => i.id !== invitation.id);
    drawInvitations();
    heading.focus();
    say(`The invitation of ${invitation.email} was revoked.`);
  }

  async function showLinkOnce(invitation, token) {
    const link = `${window.location.origin}/console/#invitation=${token}`;
    const box = field("Invitation link", { type: "text", name: "link", readOnly: true, value: link, autocomplete: "off" }, "Shown this once: it is not stored anywhere you can see it again.");
    const copied = h("div", { class: "notice", role: "status" });
    const copy = h("button", {
      type: "button",
      text: "Copy link",
      onclick: async () => {
        box.input.select();
        try {
          await navigator.clipboard.writeText(link);
          copied.textContent = "Copied.";
        } catch {
          copied.textContent = "Select the link and copy it (Ctrl+C).";
        }
      },
    });
    await openDialog({
      title: `Invitation link for ${invitation.email}`,
      description:
        `Give this link to ${invitation.email} privately. With it they join ${org.org_name} using their own account's ` +
        "password, or create an account with a name and password of their own. It works once, for that address only, " +
        `until ${formatTime(invitation.expires_at)}. Anyone who has the link can use it: do not post it anywhere shared.`,
      body: [box.field, copy, copied],
      submitLabel: "Done",
      onSubmit: async () => true,
    });
  }

  async function addMember() {
    const email = field("E-mail address", { type: "email", name: "email", autocomplete: "off", required: true });
    const checks = roleChecks(roles, catalogue, new Set(["employee"]));
    const added = await openDialog({
      title: `Invite a member to ${org.org_name}`,
      description:
        "The person joins with their own account, or creates one: nobody else ever sets or learns their password. " +
        "They become a member, with the roles ticked here, once they accept.",
      body: [email.field, checks.node],
      submitLabel: "Invite",
      onSubmit: () => api("POST", orgPath(org.org_id, "/members"), { email: email.input.value.trim(), roles: checks.chosen() }),
    });
    if (added === null) return;
    const invitation = added.invitation;
    invitations = [invitation, ...invitations.filter((i) => i.email !== invitation.email)];
    drawInvitations();
    if (added.delivery === "link") {
      await showLinkOnce(invitation, added.token);
      say(`${invitation.email} is invited to ${org.org_name}.`);
    } else if (added.delivery === "mailed") {
      say(`An invitation was e-mailed to ${invitation.email}.`);
    } else {
      showError(error, new Error(`The invitation of ${invitation.email} could not be e-mailed. Revoke it and invite again later, or ask the server's operator to check its mail settings.`));
    }
    heading.focus();
  }

  add.addEventListener("click", addMember);
  await load();
}
