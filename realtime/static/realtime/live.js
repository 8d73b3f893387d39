// Live updates for a page: WebSocket first, Server-Sent Events if the socket cannot get through.
//
// The page calls LiveClient.start({repos, onChange, onSnapshot}). After every (re)connection the page re-reads
// its snapshot, so whatever happened while it was away is shown; then changes arrive, at most one message a second
// carrying every change since the last. Delivery is at least once: a change already applied (by its id) is
// ignored, so a batch the server sends again changes nothing. API Gateway
// closes idle sockets after 10 minutes and every socket after 2 hours: heartbeats and a planned reconnect
// come first. The #live-status element says whether the page is live, or stale and since when.
(function () {
  "use strict";

  const HEARTBEAT_MS = 4 * 60 * 1000;
  const PLANNED_RECONNECT_MS = 110 * 60 * 1000;
  const MAX_BACKOFF_MS = 30 * 1000;
  const SOCKET_FAILURES_BEFORE_SSE = 3;

  function LiveClient(options) {
    this.repos = options.repos || [];
    this.onChange = options.onChange || function () {};
    this.onSnapshot = options.onSnapshot || function () { return Promise.resolve(); };
    this.useSocket = options.transport !== "sse" && "WebSocket" in window;
    this.received = []; // every change message, as it came off the wire
    this.arrivals = []; // [event id, Date.now() on arrival], for measuring delivery
    this.batches = 0; // socket messages that carried changes, for measuring coalescing
    this.lastEventId = null;
    this.seen = new Set(); // event ids already applied: a catch-up may repeat some
    this.failures = 0;
    this.timers = [];
    this.status = document.getElementById("live-status");
  }

  LiveClient.prototype.show = function (state) {
    this.state = state;
    if (!this.status) return;
    if (state === "live") {
      this.staleSince = null;
      this.status.textContent = "Live";
    } else {
      this.staleSince = this.staleSince || new Date();
      this.status.textContent = (state === "connecting" ? "Connecting… " : "Stale since ") +
        this.staleSince.toLocaleTimeString();
    }
    this.status.dataset.state = state;
  };

  LiveClient.prototype.connect = function () {
    this.show(this.state === "live" ? "stale" : "connecting");
    if (this.useSocket) this.openSocket(); else this.openEvents();
  };

  LiveClient.prototype.connected = function () {
    this.failures = 0;
    const self = this;
    // Re-read first: the snapshot covers whatever happened while the page was not connected.
    this.onSnapshot().then(function () { self.show("live"); });
  };

  LiveClient.prototype.change = function (event, id) {
    if (id && this.seen.has(id)) return;
    if (id) this.seen.add(id);
    this.received.push(event);
    this.arrivals.push([id, Date.now()]);
    if (id) this.lastEventId = id;
    this.onChange(event);
  };

  LiveClient.prototype.retry = function () {
    this.clearTimers();
    this.show("stale");
    this.failures += 1;
    if (this.useSocket && this.failures >= SOCKET_FAILURES_BEFORE_SSE) this.useSocket = false;
    const delay = Math.min(MAX_BACKOFF_MS, 500 * Math.pow(2, this.failures)) * (0.75 + Math.random() / 2);
    const self = this;
    setTimeout(function () { self.connect(); }, delay);
  };

  LiveClient.prototype.clearTimers = function () {
    this.timers.forEach(clearTimeout); // the same ids as intervals: both kinds are cleared
    this.timers = [];
  };

  LiveClient.prototype.openSocket = function () {
    const self = this;
    const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws";
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.onopen = function () {
      socket.send(JSON.stringify({ type: "subscribe", repos: self.repos }));
      self.timers.push(setInterval(function () { socket.send(JSON.stringify({ type: "ping" })); }, HEARTBEAT_MS));
      self.timers.push(setTimeout(function () { socket.close(4000, "planned reconnect"); }, PLANNED_RECONNECT_MS));
    };
    socket.onmessage = function (message) {
      const data = JSON.parse(message.data);
      if (data.type === "subscribed" && self.state !== "live") self.connected();
      else if (data.type === "changes") {
        self.batches += 1;
        data.changes.forEach(function (change) { self.change(change.event, change.id); });
      }
      else if (data.type === "reset") self.onSnapshot();
      else if (data.type === "resubscribe") socket.send(JSON.stringify({ type: "subscribe", repos: self.repos }));
    };
    socket.onclose = function () {
      self.retry();
    };
  };

  LiveClient.prototype.openEvents = function () {
    const self = this;
    const query = "repos=" + encodeURIComponent(this.repos.join(",")) +
      (this.lastEventId ? "&last_event_id=" + encodeURIComponent(this.lastEventId) : "");
    const source = new EventSource("/events?" + query);
    this.source = source;
    // Through API Gateway every response ends and EventSource comes back with its Last-Event-ID: that is the
    // normal rhythm, not an outage, so the snapshot is read once and "stale" shown only if it stays closed.
    let opened = false;
    source.onopen = function () {
      if (!opened) { opened = true; self.connected(); } else self.show("live");
    };
    source.addEventListener("change", function (message) {
      self.change(JSON.parse(message.data), message.lastEventId);
    });
    source.addEventListener("reset", function () { self.onSnapshot(); });
    source.onerror = function () {
      setTimeout(function () { if (source.readyState !== EventSource.OPEN) self.show("stale"); }, 10000);
    };
  };

  window.LiveClient = {
    start: function (options) {
      const client = new LiveClient(options);
      client.connect();
      window.liveClient = client;
      return client;
    },
  };
})();
