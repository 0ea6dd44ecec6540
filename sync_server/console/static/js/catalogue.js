// The permission catalogue (GET /api/v1/permissions, from common/permissions.py) and what the
// pages say about roles with it.
import { api } from "./api.js";
import { h } from "./dom.js";

let catalogue = null;

/** [{name, description, module, held_by_admin}], fetched once per page load. */
export async function permissions() {
  if (catalogue === null) {
    const body = await api("GET", "/api/v1/permissions");
    catalogue = body.permissions;
  }
  return catalogue;
}

/** Permissions the built-in admin role does not hold: granting them deserves a warning. */
export function sensitiveOf(perms, catalogueList) {
  const sensitive = new Set(catalogueList.filter((p) => !p.held_by_admin).map((p) => p.name));
  return perms.filter((p) => sensitive.has(p));
}

/** A role's name as a chip; `role` is undefined for a name no role has (a deleted custom role). */
export function roleChip(name, role, catalogueList) {
  if (role === undefined) {
    return h("span", { class: "chip", title: "No such role any more: it grants nothing" }, `${name} (deleted)`);
  }
  let kind = role.builtin ? "chip" : "chip custom";
  if (sensitiveOf(role.permissions, catalogueList).length) kind += " sensitive";
  return h("span", { class: kind, title: role.permissions.join(", ") || "no permissions" }, name);
}

export function sensitiveWarning(perms) {
  if (perms.length === 0) return "";
  return (
    `This grants ${perms.join(" and ")}, which the built-in admin role does not hold ` +
    "(salaries, bank accounts and national ids; running payroll). The change is recorded in the audit trail."
  );
}
