// The audit trail (admin.audit): events newest first, filtered and paged on the server, with
// before/after values masked as the API masks them for this reader; and the chain verified on
// the server, as `ops-server audit verify` does.
import { api, orgPath } from "./api.js";
import { alertBox, clear, field, formatTime, formatValue, h, showError } from "./dom.js";

const PAGE_SIZE = 50;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function changes(event) {
  const before = event.before || {};
  const after = event.after || {};
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  const parts = [];
  if (keys.length) {
    parts.push(
      h(
        "dl",
        { class: "changes" },
        keys.map((key) => {
          const had = Object.hasOwn(before, key) && event.before !== null;
          const has = Object.hasOwn(after, key) && event.after !== null;
          const value = [];
          if (had && has && JSON.stringify(before[key]) === JSON.stringify(after[key])) {
            value.push(h("span", { text: formatValue(after[key]) }));
          } else {
            if (had) value.push(h("span", { class: "old", text: formatValue(before[key]) }));
            if (had && has) value.push(" → ");
            if (has) value.push(h("span", { class: "new", text: formatValue(after[key]) }));
          }
          return h("div", {}, h("dt", { text: `${key}:` }), h("dd", {}, value));
        }),
      ),
    );
  }
  if (event.masked && event.masked.length) {
    parts.push(h("div", { class: "masked", text: `Hidden from you: ${event.masked.join(", ")}` }));
  }
  return parts.length ? parts : h("span", { class: "hint", text: "—" });
}

export async function renderAudit(container, { org, focus }) {
  const heading = h("h1", { tabindex: "-1", text: "Audit trail" });
  const verify = h("button", { type: "button", text: "Verify chain" });
  const verdict = h("div", { class: "verify", "aria-live": "polite" });
  const error = alertBox();
  const entity = field("Entity", { type: "text", name: "entity", placeholder: "e.g. membership", maxlength: "64", autocomplete: "off" });
  const entityId = field("Entity id", { type: "text", name: "entity_id", maxlength: "36", autocomplete: "off" });
  const action = field("Action", { type: "text", name: "action", placeholder: "e.g. admin.set_roles", maxlength: "64", autocomplete: "off" });
  const actor = field("Actor (e-mail or user id)", { type: "text", name: "actor", maxlength: "254", autocomplete: "off" });
  const apply = h("button", { type: "submit", class: "primary", text: "Apply filters" });
  const reset = h("button", { type: "button", text: "Clear" });
  const filters = h(
    "form",
    { class: "filters", role: "search", "aria-label": "Filter audit events", novalidate: true },
    entity.field,
    entityId.field,
    action.field,
    actor.field,
    h("div", { class: "buttons" }, apply, reset),
  );
  const results = h("div", {}, h("p", { class: "hint", text: "Loading events…" }));
  const newer = h("button", { type: "button", text: "← Newer", disabled: true });
  const older = h("button", { type: "button", text: "Older →", disabled: true });
  const position = h("span", { class: "position" });
  const pager = h("div", { class: "pager" }, newer, older, h("span", { class: "spacer" }), position);
  container.append(h("div", { class: "page-head" }, heading, h("div", { class: "actions" }, verify)), verdict, error, filters, results, pager);
  if (focus) heading.focus();

  // cursors[i] is the before_seq of page i (null: the newest events).
  let cursors = [null];
  let page = 0;
  let next = null;
  let query = new URLSearchParams();

  function readFilters() {
    const q = new URLSearchParams();
    const values = { entity: entity.input.value.trim(), entity_id: entityId.input.value.trim().toLowerCase(), action: action.input.value.trim() };
    for (const [key, value] of Object.entries(values)) if (value) q.set(key, value);
    const who = actor.input.value.trim();
    if (who) {
      if (who.includes("@")) q.set("actor_email", who);
      else if (UUID.test(who.toLowerCase())) q.set("actor", who.toLowerCase());
      else {
        actor.input.focus();
        throw new Error("actor: enter an e-mail address or a user id");
      }
    }
    return q;
  }

  async function load() {
    const q = new URLSearchParams(query);
    q.set("limit", String(PAGE_SIZE));
    if (cursors[page] !== null) q.set("before_seq", String(cursors[page]));
    newer.disabled = older.disabled = true;
    try {
      const body = await api("GET", `${orgPath(org.org_id, "/audit")}?${q}`);
      error.textContent = "";
      next = body.next_before_seq ?? null;
      draw(body.events);
    } catch (problem) {
      showError(error, problem);
      clear(results);
      position.textContent = "";
      next = null;
    }
    newer.disabled = page === 0;
    older.disabled = next === null;
  }

  function draw(events) {
    if (events.length === 0) {
      clear(results, h("div", { class: "empty", text: query.toString() ? "No audit events match these filters." : "No audit events yet." }));
      position.textContent = "";
      return;
    }
    position.textContent = `Events ${events[0].seq} to ${events[events.length - 1].seq}`;
    const rows = events.map((event) =>
      h(
        "tr",
        { "data-seq": String(event.seq) },
        h("td", { class: "num", text: String(event.seq) }),
        h("td", { class: "nowrap" }, h("time", { datetime: event.at, title: event.at, text: formatTime(event.at) })),
        h("td", { class: "actor" }, event.actor_email || (event.actor ? h("span", { class: "mono id", text: event.actor }) : h("span", { class: "hint", text: "system" }))),
        h("td", { class: "nowrap" }, h("code", { text: event.action })),
        h("td", {}, event.entity ? h("div", { text: event.entity }) : "—", event.entity_id ? h("div", { class: "mono id", text: event.entity_id }) : null),
        h("td", {}, changes(event)),
      ),
    );
    clear(
      results,
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { "aria-label": `Audit events of ${org.org_name}` },
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              h("th", { scope: "col", class: "num", text: "#" }),
              h("th", { scope: "col", text: "When" }),
              h("th", { scope: "col", text: "Who" }),
              h("th", { scope: "col", text: "Action" }),
              h("th", { scope: "col", text: "Entity" }),
              h("th", { scope: "col", text: "Changes" }),
            ),
          ),
          h("tbody", {}, rows),
        ),
      ),
    );
  }

  filters.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      query = readFilters();
    } catch (problem) {
      showError(error, problem);
      return;
    }
    cursors = [null];
    page = 0;
    await load();
  });
  reset.addEventListener("click", async () => {
    filters.reset();
    query = new URLSearchParams();
    cursors = [null];
    page = 0;
    await load();
  });
  older.addEventListener("click", async () => {
    if (next === null) return;
    cursors = cursors.slice(0, page + 1);
    cursors.push(next);
    page += 1;
    await load();
  });
  newer.addEventListener("click", async () => {
    if (page === 0) return;
    page -= 1;
    await load();
  });
  verify.addEventListener("click", async () => {
    verify.disabled = true;
    clear(verdict, h("p", { class: "hint", text: "Verifying the chain…" }));
    try {
      const result = await api("GET", orgPath(org.org_id, "/audit/verify"));
      if (result.intact) {
        clear(verdict, h("div", { class: "notice", role: "status" }, `The audit chain of ${org.org_name} is intact: ${result.events} events checked.`));
      } else {
        const bad = results.querySelector(`tr[data-seq="${result.broken_seq}"]`);
        if (bad) bad.classList.add("broken");
        clear(
          verdict,
          h(
            "div",
            { class: "alert", role: "alert" },
            h("strong", { text: `The audit chain is broken at sequence number ${result.broken_seq}` }),
            `: ${result.reason}. Events from there on cannot be trusted; the store was changed behind the server's back.`,
          ),
        );
      }
    } catch (problem) {
      clear(verdict, alertBox());
      showError(verdict.firstChild, problem);
    } finally {
      verify.disabled = false;
    }
  });
  await load();
}
