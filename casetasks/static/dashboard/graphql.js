// GraphQL over HTTP and over graphql-transport-ws, as the dashboard uses them.
import { createClient } from "./vendor/graphql-ws@6.4.2/client.js";

const endpoint = new URL("/graphql", window.location.href);

/** POSTs one operation; returns data, or throws an Error carrying the GraphQL errors. */
export async function request(query, variables = {}, token = null) {
  const headers = { "Content-Type": "application/json", Accept: "application/graphql-response+json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(endpoint, { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  const body = await response.json();
  if (body.errors?.length) {
    const error = new Error(body.errors.map((e) => e.message).join("; "));
    error.codes = body.errors.map((e) => e.extensions?.code);
    throw error;
  }
  return body.data;
}

const socketUrl = new URL(endpoint);
socketUrl.protocol = socketUrl.protocol === "https:" ? "wss:" : "ws:";

/**
 * Runs one subscription until it fails or ends. The caller reconnects: each attempt builds a
 * fresh subscription with the variables of that moment (the dashboard's newest cursor), so a
 * resumed feed starts right after what was already shown.
 */
export function subscribeOnce(query, variables, token, onData) {
  const client = createClient({
    url: socketUrl.href,
    connectionParams: { Authorization: `Bearer ${token}` },
    retryAttempts: 0,
  });
  const ended = new Promise((resolve, reject) => {
    client.subscribe({ query, variables }, {
      next: (result) => (result.errors ? reject(result.errors) : onData(result.data)),
      error: reject,
      complete: resolve,
    });
  });
  return { ended, close: () => client.dispose() };
}
