// The admin console: sign-in, the organization picker and the three pages.
import { showAccept, takeInvitationToken } from "./accept.js";
import { api, currentSession, signIn, signOut, whenSessionEnds } from "./api.js";
import { renderAudit } from "./audit.js";
import { alertBox, clear, field, h, showError } from "./dom.js";
import { renderMembers } from "./members.js";
import { askPolicyAcknowledgement, renderNotifications, renderPrivacyQueue, renderRetention } from "./privacy.js";
import { renderRoles } from "./roles.js";

const USERS = "admin.users";
const AUDIT = "admin.audit";
const PRIVACY = "privacy.manage";
const PAGES = [
  { id: "members", title: "Members", permission: USERS, render: renderMembers },
  { id: "roles", title: "Roles", permission: USERS, render: renderRoles },
  { id: "audit", title: "Audit trail", permission: AUDIT, render: renderAudit },
  { id: "privacy", title: "Privacy requests", permission: PRIVACY, render: renderPrivacyQueue },
  { id: "retention", title: "Retention", permission: PRIVACY, render: renderRetention },
  { id: "notifications", title: "Notifications", permission: null, render: renderNotifications },
];

const root = document.getElementById("app");
const state = { org: null, page: null };

function brand() {
  return h("div", { class: "brand" }, h("img", { src: "/console/static/icon.svg", alt: "" }), h("span", { text: "Operations admin console" }));
}

function adminOrgs(session) {
  return session.memberships.filter((m) => [USERS, AUDIT, PRIVACY].some((p) => m.permissions.includes(p)));
}

function showSignIn(message = "", knownEmail = "") {
  state.org = null;
  state.page = null;
  document.title = "Sign in · Admin console";
  const error = alertBox();
  if (message) error.textContent = message;
  const email = field("E-mail address", { type: "email", name: "email", autocomplete: "username", required: true, value: knownEmail });
  const password = field("Password", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const submit = h("button", { type: "submit", class: "primary", text: "Sign in" });
  const form = h(
    "form",
    { novalidate: true, "aria-labelledby": "signin-title" },
    error,
    email.field,
    password.field,
    submit,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    if (!email.input.value.trim() || !password.input.value) {
      error.textContent = "Enter your e-mail address and your password.";
      (email.input.value.trim() ? password.input : email.input).focus();
      return;
    }
    submit.disabled = true;
    try {
      const session = await signIn(email.input.value.trim(), password.input.value);
      password.input.value = "";
      showConsole(session);
      await askPolicyAcknowledgement().catch(() => {});
    } catch (problem) {
      showError(error, problem);
      password.input.value = "";
      password.input.focus();
    } finally {
      submit.disabled = false;
    }
  });
  clear(
    root,
    h(
      "main",
      { class: "centered", id: "main" },
      h(
        "div",
        { class: "card" },
        brand(),
        h("h1", { id: "signin-title", class: "signin-title", text: "Sign in" }),
        h("p", { class: "lead", text: "Manage your organization's members, roles and audit trail." }),
        form,
      ),
    ),
  );
  (knownEmail ? password.input : email.input).focus();
}

function showNotAdmin(session) {
  document.title = "No organization to administer · Admin console";
  const out = h("button", { type: "button", class: "primary", text: "Sign out", onclick: doSignOut });
  clear(
    root,
    h(
      "main",
      { class: "centered", id: "main" },
      h(
        "div",
        { class: "card wide" },
        brand(),
        h("h1", { tabindex: "-1", text: "You are not an administrator of any organization" }),
        h(
          "p",
          { class: "lead" },
          `You are signed in as ${session.user.email}, but none of your organizations lets you manage ` +
            "its members and roles (admin.users) or read its audit trail (admin.audit). " +
            "Ask an administrator of your organization if you need this.",
        ),
        out,
      ),
    ),
  );
  out.focus();
}

async function doSignOut() {
  await signOut();
  showSignIn("You have signed out.");
}

function allowed(page) {
  return state.org !== null && (page.permission === null || state.org.permissions.includes(page.permission));
}

// After a change to one's own membership (roles, removal), the console follows what the server
// now says: another organization, or the "not an administrator" page.
async function reloadMemberships() {
  const session = currentSession();
  const me = await api("GET", "/api/v1/me");
  session.memberships = me.memberships;
  const pageId = state.page ? state.page.id : null;
  showConsole(session, state.org ? state.org.org_id : null, pageId);
}

function showConsole(session, orgId = null, pageId = null) {
  const orgs = adminOrgs(session);
  if (orgs.length === 0) {
    showNotAdmin(session);
    return;
  }
  state.org = orgs.find((m) => m.org_id === orgId) || orgs[0];
  const picker = h(
    "select",
    { id: "org-picker" },
    orgs.map((m) => h("option", { value: m.org_id, text: m.org_name, selected: m === state.org })),
  );
  picker.addEventListener("change", () => {
    state.org = orgs.find((m) => m.org_id === picker.value);
    if (!allowed(state.page)) state.page = PAGES.find(allowed);
    renderShell();
  });
  const tabs = h("nav", { class: "tabs", "aria-label": "Pages" });
  const main = h("main", { id: "main" });
  clear(
    root,
    h("a", { class: "skip", href: "#main", text: "Skip to content" }),
    h(
      "header",
      { class: "topbar" },
      brand(),
      h("div", { class: "org" }, h("label", { for: "org-picker", text: "Organization" }), picker),
      h(
        "div",
        { class: "who" },
        h("span", { class: "signed-in-as", text: session.user.email }),
        h("button", { type: "button", text: "Sign out", onclick: doSignOut }),
      ),
    ),
    tabs,
    main,
  );
  state.page = PAGES.find((page) => page.id === pageId && allowed(page)) || PAGES.find(allowed);
  state.tabs = tabs;
  state.main = main;
  renderShell();
}

function renderShell(focus = false) {
  const { tabs, main } = state;
  clear(
    tabs,
    PAGES.filter(allowed).map((page) =>
      h("button", {
        type: "button",
        text: page.title,
        "aria-current": page === state.page ? "page" : null,
        onclick: () => {
          state.page = page;
          renderShell(true);
        },
      }),
    ),
  );
  document.title = `${state.page.title} · ${state.org.org_name} · Admin console`;
  // A fresh container per render: a page still loading when another is chosen writes into a
  // detached element, never over the new page.
  const container = h("div", { class: "page" });
  clear(main, container);
  state.page.render(container, { org: state.org, user: currentSession().user, focus, reloadMemberships });
}

whenSessionEnds((message) => showSignIn(message));
const invitation = takeInvitationToken();
if (invitation !== null) {
  showAccept(root, brand, invitation, (email, message) => showSignIn(message, email));
} else {
  showSignIn();
}
