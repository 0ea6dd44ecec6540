// The console's one way to the server: /api/v1 on this origin, JSON in and out.
//
// Tokens live in this module's memory only (never localStorage, sessionStorage or cookies):
// closing or reloading the tab signs out. A 401 is answered by one refresh of the token pair
// (concurrent calls share it) and one retry; when the refresh fails too, the session has ended.

export class ApiError extends Error {
  constructor(status, code, message, details = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

let session = null; // {access, refresh, user, memberships}
let refreshing = null;
let onEnded = () => {};

/** Called with a message when the session ends (refresh refused, or signed out elsewhere). */
export function whenSessionEnds(callback) {
  onEnded = callback;
}

export function currentSession() {
  return session;
}

async function send(method, path, body, token) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
      redirect: "error",
    });
  } catch {
    throw new ApiError(0, "network", "The server could not be reached. Check the connection and try again.");
  }
  if (response.status === 204) return null;
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = data && data.error;
    if (error && typeof error.message === "string") {
      throw new ApiError(response.status, error.code || "error", error.message, error.details || {});
    }
    throw new ApiError(response.status, "http_error", `The server answered ${response.status} without an explanation.`);
  }
  return data;
}

export async function signIn(email, password) {
  const body = await send("POST", "/api/v1/auth/login", { email, password, device_name: "Admin console (web browser)" });
  session = {
    access: body.access_token,
    refresh: body.refresh_token,
    user: body.user,
    memberships: body.memberships,
  };
  return session;
}

function endSession(message) {
  if (session === null) return;
  session = null;
  onEnded(message);
}

async function refreshTokens() {
  if (refreshing === null) {
    const token = session.refresh;
    refreshing = send("POST", "/api/v1/auth/refresh", { refresh_token: token })
      .then((pair) => {
        if (session !== null) {
          session.access = pair.access_token;
          session.refresh = pair.refresh_token;
        }
      })
      .finally(() => {
        refreshing = null;
      });
  }
  return refreshing;
}

/** An authenticated API call; throws ApiError with the server's message on failure. */
export async function api(method, path, body) {
  if (session === null) throw new ApiError(401, "signed_out", "Sign in first.");
  try {
    return await send(method, path, body, session.access);
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401 || session === null) throw error;
  }
  try {
    await refreshTokens();
  } catch (error) {
    const reason = error instanceof ApiError && error.status !== 0 ? error.message : "";
    endSession(reason ? `You were signed out: ${reason}.` : "Your session has ended. Sign in again.");
    throw new ApiError(401, "session_ended", "Your session has ended. Sign in again.");
  }
  if (session === null) throw new ApiError(401, "signed_out", "Sign in first.");
  try {
    return await send(method, path, body, session.access);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      endSession(`You were signed out: ${error.message}.`);
    }
    throw error;
  }
}

/** Ends the sign-in session on the server (best effort) and forgets the tokens. */
export async function signOut() {
  if (session === null) return;
  const token = session.refresh;
  session = null;
  try {
    await send("POST", "/api/v1/auth/logout", { refresh_token: token });
  } catch {
    // The tokens are forgotten either way; an unreachable server lets them expire.
  }
}

export function orgPath(orgId, rest = "") {
  return `/api/v1/orgs/${encodeURIComponent(orgId)}${rest}`;
}
