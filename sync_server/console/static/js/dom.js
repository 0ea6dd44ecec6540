// Small DOM helpers. Text always goes in as text (textContent), never as HTML: names, e-mail
// addresses and audit values come from users and must never become markup.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "checked" || key === "disabled" || key === "readOnly" || key === "required") el[key] = Boolean(value);
    else if (key === "value") el.value = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let nextId = 0;
export function uid(prefix) {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

/** A labelled input: returns {field, input}. */
export function field(labelText, attrs = {}, hint = null) {
  const id = uid("f");
  const hintId = hint ? uid("hint") : null;
  const input = h(attrs.tag || "input", { id, "aria-describedby": hintId, ...attrs, tag: null });
  const wrap = h("div", { class: "field" }, h("label", { for: id, text: labelText }), input, hint ? h("div", { id: hintId, class: "hint", text: hint }) : null);
  return { field: wrap, input };
}

/** A checkbox named by `labelText` alone; `what` (text or nodes) is its description. */
export function checkbox(labelText, what, attrs = {}) {
  const id = uid("c");
  const descId = what ? uid("d") : null;
  const input = h("input", { type: "checkbox", id, "aria-describedby": descId, ...attrs });
  const label = h(
    "div",
    { class: "check" },
    input,
    h("div", {}, h("label", { for: id, class: "name", text: labelText }), what ? h("div", { id: descId, class: "what" }, what) : null),
  );
  return { label, input };
}

/**
 * Puts the keyboard focus back on the button labelled `label` inside `scope` after a redraw
 * replaced it (or on `fallback` when it is gone), so keyboard users keep their place.
 */
export function refocus(scope, label, fallback) {
  const again = [...scope.querySelectorAll("button")].find((b) => b.getAttribute("aria-label") === label);
  (again || fallback).focus();
}

/** The message of any error, for the user (ApiError carries the server's own words). */
export function messageOf(error) {
  if (error && typeof error.message === "string" && error.message) return error.message;
  return "Something went wrong.";
}

export function alertBox() {
  return h("div", { class: "alert", role: "alert" });
}

export function showError(box, error) {
  box.textContent = messageOf(error);
}

/**
 * A modal dialog with a form. `onSubmit(form)` may throw: its message is shown in the dialog,
 * which stays open. Resolves to onSubmit's result, or null when cancelled.
 */
export function openDialog({ title, description = null, body = [], submitLabel, danger = false, onSubmit }) {
  return new Promise((resolve) => {
    const titleId = uid("dlg");
    const error = alertBox();
    const submit = h("button", { type: "submit", class: danger ? "primary danger" : "primary", text: submitLabel });
    const cancel = h("button", { type: "button", text: "Cancel" });
    const form = h(
      "form",
      { novalidate: true },
      h("header", {}, h("h2", { id: titleId, text: title })),
      h("div", { class: "body" }, error, description ? h("p", {}, description) : null, body),
      h("footer", {}, cancel, submit),
    );
    const dialog = h("dialog", { "aria-labelledby": titleId }, form);
    let result = null;
    cancel.addEventListener("click", () => dialog.close());
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(result);
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      submit.disabled = true;
      error.textContent = "";
      try {
        result = await onSubmit(form);
        dialog.close();
      } catch (problem) {
        showError(error, problem);
        error.scrollIntoView({ block: "nearest" });
      } finally {
        submit.disabled = false;
      }
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** Yes/no question in a dialog; `action()` runs on yes (its errors are shown in the dialog). */
export function confirmAction({ title, description, confirmLabel, danger = true, action }) {
  return openDialog({ title, description, submitLabel: confirmLabel, danger, onSubmit: action });
}

export function formatTime(iso) {
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return iso;
  return when.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
}

export function formatValue(value) {
  if (value === null || value === undefined) return "—";
  if (typeof value === "string") return value === "" ? "“”" : value;
  return JSON.stringify(value);
}
