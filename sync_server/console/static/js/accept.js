// Accepting an invitation (the link an administrator handed over, or the server e-mailed):
// /console/#invitation=<token>. The token stays in the address's fragment, which the browser
// never sends to any server; it is removed from the address bar at once.
import { ApiError } from "./api.js";
import { alertBox, clear, field, h, showError } from "./dom.js";

const MIN_PASSWORD = 8;
const PREFIX = "#invitation=";

/** The invitation token in the page's address, removed from it (null when there is none). */
export function takeInvitationToken() {
  if (!window.location.hash.startsWith(PREFIX)) return null;
  const token = decodeURIComponent(window.location.hash.slice(PREFIX.length));
  window.history.replaceState(null, "", window.location.pathname);
  return token || null;
}

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { Accept: "application/json", "Content-Type": "application/json" },
    body: JSON.stringify(body),
    credentials: "omit",
    cache: "no-store",
    redirect: "error",
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = data && data.error;
    throw new ApiError(response.status, error ? error.code : "http_error", error ? error.message : `The server answered ${response.status}.`);
  }
  return data;
}

/** The accept page; `done(email, message)` goes on to the sign-in page. */
export async function showAccept(root, brand, token, done) {
  document.title = "Accept an invitation · Admin console";
  const card = h("div", { class: "card wide" }, brand(), h("h1", { tabindex: "-1", text: "Accept an invitation" }));
  const error = alertBox();
  clear(root, h("main", { class: "centered", id: "main" }, card));
  let invitation;
  try {
    invitation = await post("/api/v1/invitations/preview", { token });
  } catch (problem) {
    card.append(error);
    showError(error, problem);
    card.append(h("button", { type: "button", class: "primary", text: "Go to sign-in", onclick: () => done("", "") }));
    return;
  }
  const lead = h("p", { class: "lead" }, `You are invited to join ${invitation.org_name} as `, h("strong", { text: invitation.email }), ".");
  const existing = h("input", { type: "radio", name: "kind", id: "kind-existing", value: "existing", checked: true });
  const fresh = h("input", { type: "radio", name: "kind", id: "kind-new", value: "new" });
  const kinds = h(
    "fieldset",
    {},
    h("legend", { text: "Your account" }),
    h("div", { class: "check" }, existing, h("label", { for: "kind-existing", text: `I already have an account with ${invitation.email}` })),
    h("div", { class: "check" }, fresh, h("label", { for: "kind-new", text: "I am new here: create my account" })),
  );
  const name = field("Your name", { type: "text", name: "name", autocomplete: "name", maxlength: "200" });
  const password = field("Password", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const repeat = field("Repeat the password", { type: "password", name: "password2", autocomplete: "new-password" });
  const submit = h("button", { type: "submit", class: "primary", text: "Join" });
  const form = h("form", { novalidate: true, "aria-label": "Accept the invitation" }, error, kinds, name.field, password.field, repeat.field, submit);
  const update = () => {
    const isNew = fresh.checked;
    name.field.hidden = !isNew;
    repeat.field.hidden = !isNew;
    password.input.setAttribute("autocomplete", isNew ? "new-password" : "current-password");
    clear(password.field.querySelector("label"), isNew ? `Choose a password (at least ${MIN_PASSWORD} characters)` : "Your password");
  };
  existing.addEventListener("change", update);
  fresh.addEventListener("change", update);
  update();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const isNew = fresh.checked;
    const body = { token, password: password.input.value };
    if (isNew) {
      if (!name.input.value.trim()) {
        error.textContent = "Enter your name.";
        name.input.focus();
        return;
      }
      if (password.input.value.length < MIN_PASSWORD) {
        error.textContent = `Choose a password of at least ${MIN_PASSWORD} characters.`;
        password.input.focus();
        return;
      }
      if (password.input.value !== repeat.input.value) {
        error.textContent = "The two passwords are not the same.";
        repeat.input.focus();
        return;
      }
      body.name = name.input.value.trim();
    } else if (!password.input.value) {
      error.textContent = "Enter your password.";
      password.input.focus();
      return;
    }
    submit.disabled = true;
    try {
      const joined = await post("/api/v1/invitations/accept", body);
      done(joined.email, `You joined ${joined.org_name}. Sign in to continue.`);
    } catch (problem) {
      showError(error, problem);
      password.input.value = "";
      repeat.input.value = "";
      password.input.focus();
    } finally {
      submit.disabled = false;
    }
  });
  card.append(lead, form);
  existing.focus();
}
