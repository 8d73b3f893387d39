// What JavaScript adds to the server-rendered pages: live updates, running timers, notifications, themes,
// keyboard shortcuts and kiosk cycling. Every page works without it.
(function () {
  "use strict";

  const body = document.body;
  const page = body.dataset.page;
  const FAILING = new Set(["failure", "timed_out", "startup_failure"]);
  const THEMES = ["system", "light", "dark"];
  const REFRESH_DEBOUNCE_MS = 700;
  const KIOSK_CYCLE_MS = 15000;

  function jsonData(id, fallback) {
    const element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : fallback;
  }

  const settings = jsonData("client-settings", { auto_refresh: true, pinned_repos: [], notifications: {} });
  const csrfInput = document.querySelector("input[name=csrfmiddlewaretoken]");

  // --- Timers: a running run's elapsed time keeps counting ---------------------------------------------------
  function durationText(seconds) {
    seconds = Math.max(0, Math.round(seconds));
    if (seconds < 60) return seconds + "s";
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes + "m " + String(seconds % 60).padStart(2, "0") + "s";
    return Math.floor(minutes / 60) + "h " + String(minutes % 60).padStart(2, "0") + "m";
  }

  function tick() {
    const now = Date.now();
    document.querySelectorAll("[data-elapsed-from]").forEach(function (element) {
      element.textContent = durationText((now - Date.parse(element.dataset.elapsedFrom)) / 1000);
    });
  }
  setInterval(tick, 1000);

  // --- Live updates ------------------------------------------------------------------------------------------
  // A change re-reads the page as it is (same URL, same filters) and swaps in what changed: the server stays the
  // one place that decides what a view shows. Items whose state changed are highlighted for a moment.
  const LIVE_REGIONS = ["#board", "#history tbody", "#jobs", ".facts", "[data-testid=counters]", ".actions"];
  let refreshTimer = null;
  let pending = 0;

  function keyOf(element) {
    const repo = element.closest("[data-repo]");
    return [repo ? repo.dataset.repo : "", element.dataset.workflow, element.dataset.run, element.dataset.job].join("|");
  }

  function stateKeys(root) {
    const states = new Map();
    root.querySelectorAll("[data-category]").forEach(function (element) {
      states.set(keyOf(element), element.dataset.category);
    });
    return states;
  }

  function refresh() {
    const before = stateKeys(document);
    return fetch(location.href, { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        const fresh = new DOMParser().parseFromString(html, "text/html");
        // The item chosen with j/k lives in a region about to be replaced: find it again afterwards.
        const selected = document.querySelector(".selected");
        const selectedKey = selected && keyOf(selected);
        const hadFocus = selected && selected === document.activeElement;
        LIVE_REGIONS.forEach(function (selector) {
          const current = document.querySelector(selector);
          const replacement = fresh.querySelector(selector);
          if (current && replacement) current.replaceWith(document.importNode(replacement, true));
        });
        if (selectedKey) {
          const again = items().find(function (item) { return keyOf(item) === selectedKey; });
          if (again) {
            again.classList.add("selected");
            again.tabIndex = -1;
            if (hadFocus) again.focus({ preventScroll: true });
          }
        }
        document.title = fresh.title;
        document.querySelectorAll("[data-category]").forEach(function (element) {
          if (before.get(keyOf(element)) !== element.dataset.category) highlight(element);
        });
        bindConfirmations();
        tick();
      })
      .catch(function () { /* the next change or reconnection tries again */ });
  }

  function highlight(element) {
    element.classList.remove("changed");
    void element.offsetWidth; // restart the animation
    element.classList.add("changed");
  }

  function scheduleRefresh() {
    if (!settings.auto_refresh) {
      // Auto-refresh off: say that there is something new, and let the user choose when to see it.
      pending += 1;
      const notice = document.getElementById("updates");
      if (notice) {
        notice.hidden = false;
        notice.querySelector("span").textContent = pending + (pending === 1 ? " new change." : " new changes.");
      }
      return;
    }
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refresh, REFRESH_DEBOUNCE_MS);
  }

  function relevant(event) {
    if (page === "run") return String(event.id || event.run_id) === String(jsonData("page-run", ""));
    return true;
  }

  // --- Notifications -----------------------------------------------------------------------------------------
  const lastCategory = new Map(); // "repo|workflow" -> the category last seen, to recognise a recovery

  function rememberCategories() {
    document.querySelectorAll("[data-repo] tr[data-workflow]").forEach(function (row) {
      lastCategory.set(row.closest("[data-repo]").dataset.repo + "|" + row.dataset.workflow, row.dataset.category);
    });
  }

  function notify(event) {
    const rules = settings.notifications || {};
    if (!rules.enabled || !("Notification" in window) || Notification.permission !== "granted") return;
    if (event.kind !== "run" || event.status !== "completed") return;
    const key = event.repo + "|" + event.workflow_id;
    const before = lastCategory.get(key);
    const failed = FAILING.has(event.conclusion);
    lastCategory.set(key, failed ? "failure" : event.conclusion === "success" ? "success" : "neutral");
    if (rules.pinned_only && settings.pinned_repos.indexOf(event.repo) < 0) return;
    if (rules.default_branch_only && !event.on_default_branch) return;
    let title = null;
    if (failed && rules.on_failure) title = "Failed: " + event.repo + " · " + event.workflow_name;
    else if (event.conclusion === "success" && before === "failure" && rules.on_recovery) {
      title = "Fixed: " + event.repo + " · " + event.workflow_name;
    }
    if (!title) return;
    const notification = new Notification(title, {
      body: "#" + event.run_number + " on " + event.head_branch + " by " + (event.actor || "someone"),
      tag: key,
    });
    notification.onclick = function () {
      window.focus();
      const [owner, name] = event.repo.split("/");
      location.href = "/repos/" + owner + "/" + name + "/runs/" + event.id;
    };
  }

  function offerNotifications() {
    const rules = settings.notifications || {};
    if (!rules.enabled || !("Notification" in window) || Notification.permission !== "default") return;
    const nav = document.querySelector(".topbar nav");
    if (!nav) return;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "link-button";
    button.textContent = "Allow notifications";
    button.addEventListener("click", function () {
      Notification.requestPermission().then(function () { button.remove(); });
    });
    nav.prepend(button);
  }

  // --- Themes ------------------------------------------------------------------------------------------------
  const themeButton = document.getElementById("theme-toggle");

  function setTheme(theme) {
    document.documentElement.dataset.theme = theme;
    if (themeButton) themeButton.textContent = "Theme: " + theme;
    // The cookie is what pages are rendered with; the settings are where other browsers learn it at sign-in.
    document.cookie = "theme=" + theme + "; path=/; max-age=31536000; samesite=lax";
    if (!csrfInput) return; // kiosk pages have no form to take the token from: the change stays in this browser
    fetch("/api/settings", {
      method: "PATCH",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfInput.value },
      body: JSON.stringify({ theme: theme }),
    });
  }

  function nextTheme() {
    const current = document.documentElement.dataset.theme || "system";
    setTheme(THEMES[(THEMES.indexOf(current) + 1) % THEMES.length]);
  }

  if (themeButton) {
    themeButton.hidden = false;
    themeButton.addEventListener("click", nextTheme);
  }

  // --- Keyboard shortcuts ------------------------------------------------------------------------------------
  const help = document.getElementById("help");
  const helpButton = document.getElementById("help-toggle");
  if (helpButton) {
    helpButton.hidden = false;
    helpButton.addEventListener("click", toggleHelp);
  }

  function toggleHelp() {
    if (!help) return;
    if (help.open) help.close(); else help.showModal();
  }

  function items() {
    return Array.prototype.slice.call(document.querySelectorAll("#board > article, #history tbody tr[data-run], #jobs > li"));
  }

  function move(step) {
    const all = items();
    if (!all.length) return;
    const current = all.indexOf(document.querySelector(".selected"));
    const next = all[Math.max(0, Math.min(all.length - 1, current + step))];
    all.forEach(function (item) { item.classList.remove("selected"); });
    next.classList.add("selected");
    next.tabIndex = -1;
    next.focus();
    next.scrollIntoView({ block: "nearest" });
  }

  function withQuery(change) {
    const url = new URL(location.href);
    change(url.searchParams);
    location.href = url.pathname + (url.searchParams.toString() ? "?" + url.searchParams : "");
  }

  let lastKey = null;
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    const typing = target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
    if (typing) {
      if (event.key === "Escape") target.blur();
      return;
    }
    const key = event.key;
    const sequence = lastKey === "g" ? "g " + key : key;
    lastKey = key;
    const actions = {
      "?": toggleHelp,
      "/": function () { const search = document.getElementById("search"); if (search) search.focus(); },
      j: function () { move(1); },
      k: function () { move(-1); },
      Enter: function () {
        const selected = document.querySelector(".selected");
        const link = selected && (selected.querySelector("a.repo-link") || selected.querySelector("a"));
        if (link) link.click();
      },
      "g o": function () { location.href = "/"; },
      f: function () {
        withQuery(function (query) {
          if (query.get("status") === "failure") query.delete("status"); else query.set("status", "failure");
        });
      },
      t: nextTheme,
      x: function () {
        withQuery(function (query) { if (query.get("kiosk") === "1") query.delete("kiosk"); else query.set("kiosk", "1"); });
      },
      r: refresh,
    };
    const action = actions[sequence] || actions[key];
    if (action) {
      event.preventDefault();
      lastKey = null;
      action();
    }
  });

  // --- Confirmations and kiosk ---------------------------------------------------------------------------------
  function bindConfirmations() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      if (form.dataset.bound) return;
      form.dataset.bound = "1";
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.dataset.confirm)) event.preventDefault();
      });
    });
  }
  bindConfirmations();

  if (body.classList.contains("kiosk")) {
    // A wall screen shows everything: when the board is taller than the screen, it pages through it.
    setInterval(function () {
      const bottom = window.scrollY + window.innerHeight >= document.documentElement.scrollHeight - 2;
      window.scrollTo({ top: bottom ? 0 : window.scrollY + window.innerHeight * 0.9, behavior: "smooth" });
    }, KIOSK_CYCLE_MS);
  }

  // --- Start -------------------------------------------------------------------------------------------------
  const repos = jsonData("page-repos", null);
  if (repos && window.LiveClient) {
    rememberCategories();
    offerNotifications();
    window.LiveClient.start({
      repos: repos,
      transport: new URLSearchParams(location.search).get("transport"), // "sse" forces Server-Sent Events
      onChange: function (event) {
        notify(event);
        if (relevant(event)) scheduleRefresh();
      },
      onSnapshot: function () { return refresh().then(rememberCategories); },
    });
  }
})();
