// Privacy pages: the privacy team's queue of data subject requests (privacy.manage), the
// retention schedule (privacy.manage), and the signed-in user's notifications (every member).
import { api, currentSession, orgPath } from "./api.js";
import { alertBox, clear, field, formatTime, formatValue, h, openDialog, showError } from "./dom.js";

function table(headers, rows, empty) {
  if (!rows.length) return h("p", { class: "hint", text: empty });
  return h(
    "table",
    {},
    h("thead", {}, h("tr", {}, headers.map((text) => h("th", { scope: "col", text })))),
    h("tbody", {}, rows),
  );
}

async function download(org, request) {
  // The ZIP is fetched with the session's token, then handed to the browser as a file.
  const session = currentSession();
  const answer = await fetch(orgPath(org.org_id, `/privacy/requests/${encodeURIComponent(request.id)}/export`), {
    headers: { Authorization: `Bearer ${session.access}` },
  });
  if (!answer.ok) throw new Error(`the export failed (${answer.status})`);
  const url = URL.createObjectURL(await answer.blob());
  const link = h("a", { href: url, download: `data-${request.id}.zip` });
  document.body.append(link);
  link.click();
  link.remove();
  URL.revokeObjectURL(url);
}

function outcomeText(request) {
  const outcome = request.outcome || {};
  if (request.status === "rejected") return `Rejected: ${outcome.reason || ""}`;
  if (outcome.kept && outcome.kept.length) {
    return "Kept: " + outcome.kept.map((k) => `${k.data} (${k.reason}${k.until ? `, until ${k.until}` : ""})`).join("; ");
  }
  return request.status === "completed" ? "Done" : "";
}

async function push(org, name, args) {
  const mutation = { id: crypto.randomUUID(), name, args };
  const answer = await api("POST", orgPath(org.org_id, "/sync/push"), {
    client_id: "console",
    // The sync schema version this console speaks: at least the server's MIN_CLIENT_SCHEMA_VERSION
    // (sync_server/blueprints/sync.py), or the push is refused with upgrade_required.
    schema_version: 8,
    mutations: [mutation],
  });
  const [result] = answer.results;
  if (result.status !== "applied") throw new Error(result.message || result.code);
}

export async function renderPrivacyQueue(container, { org, focus }) {
  const heading = h("h1", { tabindex: "-1", text: "Privacy requests" });
  const error = alertBox();
  const list = h("div", { "aria-live": "polite" });
  clear(
    container,
    heading,
    h("p", { class: "lead", text: "Requests for access, a copy, correction, erasure or opt-out. The law gives 30 days to answer." }),
    error,
    list,
  );
  if (focus) heading.focus();
  async function load() {
    try {
      const { requests } = await api("GET", orgPath(org.org_id, "/privacy/requests"));
      const rows = requests.map((request) => {
        const actions = [];
        if (request.status === "open") {
          actions.push(
            h("button", {
              type: "button",
              text: "Complete",
              onclick: () =>
                openDialog({
                  title: `Complete the ${request.kind} request`,
                  description: request.kind === "erasure" ? "Personal data free of legal holds is erased now, in every copy." : null,
                  submitLabel: "Complete",
                  danger: request.kind === "erasure",
                  onSubmit: () => push(org, "privacy.complete_data_subject_request", { id: request.id }),
                }).then(load),
            }),
          );
        }
        if (["access", "export"].includes(request.kind) || request.status === "completed") {
          actions.push(h("button", { type: "button", text: "Download copy", onclick: () => download(org, request).catch((p) => showError(error, p)) }));
        }
        return h(
          "tr",
          { class: request.overdue ? "overdue" : null },
          h("td", { text: request.kind }),
          h("td", { text: request.subject_name || `${request.subject_type} …${request.subject_id.slice(-8)}` }),
          h("td", { text: request.status }),
          h("td", { text: formatTime(request.requested_at) }),
          h("td", {}, request.due_at ? formatTime(request.due_at) : "—", request.overdue ? h("strong", { class: "badge", text: " Overdue" }) : null),
          h("td", { text: request.verification || "—" }),
          h("td", { text: outcomeText(request) }),
          h("td", {}, actions),
        );
      });
      clear(list, table(["Kind", "Subject", "Status", "Requested", "Due", "Identity verified", "Outcome", ""], rows, "No requests."));
    } catch (problem) {
      showError(error, problem);
    }
  }
  await load();
}

export async function renderRetention(container, { org, focus }) {
  const heading = h("h1", { tabindex: "-1", text: "Retention schedule" });
  const error = alertBox();
  const list = h("div");
  clear(
    container,
    heading,
    h("p", { class: "lead", text: "How long each type of data is kept, and what happens after. Periods cannot go below the legal minimum." }),
    error,
    list,
  );
  if (focus) heading.focus();
  async function load() {
    try {
      const { schedule } = await api("GET", orgPath(org.org_id, "/privacy/retention"));
      const rows = schedule.map((rule) =>
        h(
          "tr",
          {},
          h("td", { text: rule.data_type }),
          h("td", { text: rule.description }),
          h("td", { text: `${rule.period_days} days` }),
          h("td", { text: rule.action }),
          h("td", { text: rule.legal_basis }),
          h("td", { text: `${rule.minimum_days} days` }),
          h(
            "td",
            {},
            h("button", {
              type: "button",
              text: "Change",
              onclick: () => {
                const days = field("Period (days)", { type: "number", name: "period_days", min: String(rule.minimum_days), value: String(rule.period_days), required: true });
                const basis = field("Legal basis", { type: "text", name: "legal_basis", value: rule.legal_basis, maxlength: "500", required: true });
                openDialog({
                  title: `Retention of ${rule.data_type}`,
                  body: [days.field, basis.field],
                  submitLabel: "Save",
                  onSubmit: () =>
                    api("PUT", orgPath(org.org_id, "/privacy/retention"), {
                      data_type: rule.data_type,
                      period_days: Number(days.input.value),
                      action: rule.action,
                      legal_basis: basis.input.value,
                    }),
                }).then(load);
              },
            }),
          ),
        ),
      );
      clear(list, table(["Data type", "What", "Kept", "Then", "Legal basis", "Minimum", ""], rows, "No schedule."));
    } catch (problem) {
      showError(error, problem);
    }
  }
  await load();
}

export async function renderNotifications(container, { org, focus }) {
  const heading = h("h1", { tabindex: "-1", text: "Notifications" });
  const error = alertBox();
  const list = h("div");
  clear(container, heading, error, list);
  if (focus) heading.focus();
  try {
    const { notifications } = await api("GET", orgPath(org.org_id, "/notifications"));
    const rows = notifications.map((n) =>
      h("tr", {}, h("td", { text: formatTime(n.sent_at) }), h("td", { text: n.kind }), h("td", { text: n.title }), h("td", { text: formatValue(n.body) })),
    );
    clear(list, table(["When", "Kind", "Title", "Message"], rows, "No notifications."));
  } catch (problem) {
    showError(error, problem);
  }
}

/** After sign-in: a policy version the user has not acknowledged is shown with its summary. */
export async function askPolicyAcknowledgement() {
  const policy = await api("GET", "/api/v1/me/policy");
  // Version 1 is what every account agreed to on joining; a later version is asked once.
  if (policy.acknowledged || policy.version <= 1) return;
  await openDialog({
    title: `Privacy policy version ${policy.version}`,
    description: `Effective ${policy.effective_date}. ${policy.summary}`,
    body: [h("p", {}, h("a", { href: "/api/v1/policy", target: "_blank", rel: "noopener", text: "Read the full policy" }))],
    submitLabel: "I have read it",
    danger: false,
    onSubmit: () => api("POST", "/api/v1/me/policy/acknowledgement", { version: policy.version }),
  });
}
