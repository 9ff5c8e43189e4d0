// The reference dashboard: sign in, the Tasks screen's first page, and the Dashboard
// Notifications Widget kept live over graphql-transport-ws.
//
// The token lives in sessionStorage: it survives a reload of this tab and is gone when the
// tab closes, and no other site can read it (localStorage would keep it after the browser
// closes; a cookie would travel with every request, inviting CSRF).
import { request, subscribeOnce } from "./graphql.js";

const LOGIN = `mutation SignIn($email: String!, $password: String!) {
  login(email: $email, password: $password) {
    token
    errors { field code message }
    viewer { ... on Staff { name } ... on Client { name } }
  }
}`;
const TASKS = `query TasksScreen {
  me { ... on Staff { name } }
  tasks(first: 50) {
    totalCount
    edges { node { id name dueDate status overdue client { name } responsible { name } } }
  }
}`;
const NOTIFICATIONS = `query Widget {
  notifications(first: 20) {
    unreadCount
    edges { node { id kind message read createdAt cursor } }
  }
}`;
const LIVE = `subscription Live($after: String) {
  notificationAdded(after: $after) { id kind message read createdAt cursor }
}`;
const MARK_READ = `mutation MarkRead { markNotificationsRead(input: {}) { unreadCount } }`;
const SIGN_OUT = `mutation SignOut { logout }`;

const $ = (id) => document.getElementById(id);
const state = { token: sessionStorage.getItem("casetasks.token"), shown: new Set(), after: null, unread: 0, live: null };

$("sign-in").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("sign-in-problem").textContent = "";
  try {
    const { login } = await request(LOGIN, { email: $("email").value, password: $("password").value });
    if (!login.token) {
      $("sign-in-problem").textContent = login.errors.map((e) => e.message).join(" ") || "Sign-in failed.";
      return;
    }
    state.token = login.token;
    sessionStorage.setItem("casetasks.token", login.token);
    await open();
  } catch (error) {
    $("sign-in-problem").textContent = error.message;
  }
});

$("sign-out").addEventListener("click", async () => {
  const token = state.token;
  close();
  if (token) await request(SIGN_OUT, {}, token).catch(() => {});
});

$("mark-read").addEventListener("click", async () => {
  const { markNotificationsRead } = await request(MARK_READ, {}, state.token);
  for (const item of $("notification-list").children) item.classList.remove("unread");
  showUnread(markNotificationsRead.unreadCount);
});

async function open() {
  try {
    const [screen, widget] = await Promise.all([request(TASKS, {}, state.token), request(NOTIFICATIONS, {}, state.token)]);
    $("sign-in").hidden = true;
    for (const id of ["tasks", "notifications", "who", "sign-out"]) $(id).hidden = false;
    $("who").textContent = screen.me?.name ?? "";
    showTasks(screen.tasks);
    // Newest first: the first edge is the cursor to resume after.
    const edges = widget.notifications.edges;
    for (const { node } of [...edges].reverse()) addNotification(node);
    state.after = edges[0]?.node.cursor ?? null;
    showUnread(widget.notifications.unreadCount);
    listen();
  } catch (error) {
    if (error.codes?.includes("UNAUTHENTICATED")) close();
    else $("sign-in-problem").textContent = error.message;
  }
}

function close() {
  state.token = null;
  sessionStorage.removeItem("casetasks.token");
  state.live?.close();
  state.live = null;
  state.shown.clear();
  $("notification-list").replaceChildren();
  $("task-rows").replaceChildren();
  $("sign-in").hidden = false;
  for (const id of ["tasks", "notifications", "who", "sign-out"]) $(id).hidden = true;
}

// One subscription at a time; when the socket drops, a new one resumes after the newest
// notification shown, so nothing is lost, and the ids already shown keep anything doubled out.
async function listen() {
  let wait = 1000;
  const token = state.token;
  while (state.token === token) {
    state.live = subscribeOnce(LIVE, { after: state.after }, token, ({ notificationAdded }) => {
      wait = 1000;
      $("live-status").textContent = "";
      if (addNotification(notificationAdded, true)) showUnread(state.unread + (notificationAdded.read ? 0 : 1));
      state.after = notificationAdded.cursor;
    });
    try {
      await state.live.ended;
    } catch (error) {
      if (error?.code === 4401 || error?.code === 4403) return close();
    }
    if (state.token !== token) return;
    $("live-status").textContent = "Reconnecting…";
    await new Promise((resolve) => setTimeout(resolve, wait));
    wait = Math.min(wait * 2, 10000);
  }
}

function showTasks(tasks) {
  $("task-count").textContent = `(${tasks.totalCount})`;
  $("task-rows").replaceChildren(...tasks.edges.map(({ node }) => {
    const row = document.createElement("tr");
    if (node.overdue) row.className = "overdue";
    const cells = [node.name, node.client?.name ?? "", node.dueDate, node.responsible.map((s) => s.name).join(", ") || "Unassigned", node.status === "OPEN" ? "Open" : "Completed"];
    row.replaceChildren(...cells.map((text) => Object.assign(document.createElement("td"), { textContent: text })));
    return row;
  }));
}

/** Adds a notification unless already shown; newest on top. Returns whether it was new. */
function addNotification(node, live = false) {
  if (state.shown.has(node.id)) return false;
  state.shown.add(node.id);
  const item = document.createElement("li");
  item.dataset.id = node.id;
  if (!node.read) item.className = "unread";
  const when = Object.assign(document.createElement("time"), { dateTime: node.createdAt, textContent: new Date(node.createdAt).toLocaleString() });
  item.append(node.message, when);
  $("notification-list").prepend(item);
  return live;
}

function showUnread(count) {
  state.unread = count;
  $("unread").textContent = count ? String(count) : "";
  $("unread").setAttribute("aria-label", `${count} unread`);
}

if (state.token) open();
