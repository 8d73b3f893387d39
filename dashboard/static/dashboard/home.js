// The front page's live table: each change updates its workflow's row; a snapshot re-renders every row.
(function () {
  "use strict";

  const table = document.querySelector("#runs tbody");
  const repos = JSON.parse(document.getElementById("repos-data").textContent);

  function stateOf(run) { return run.conclusion || run.status; }

  function cell(row, tag, text) {
    const element = document.createElement(tag);
    element.textContent = text;
    row.appendChild(element);
    return element;
  }

  function render(row, repo, run) {
    // Built from nodes, never from HTML strings: names and URLs come from webhook payloads.
    row.dataset.repo = repo;
    row.dataset.workflow = run.workflow_id;
    row.replaceChildren();
    cell(row, "th", repo).scope = "row";
    cell(row, "td", run.workflow_name || "");
    const state = cell(row, "td", stateOf(run));
    state.className = "state";
    state.dataset.testid = "state";
    const number = cell(row, "td", "");
    const link = document.createElement(run.html_url ? "a" : "span");
    if (run.html_url) link.href = run.html_url;
    link.textContent = "#" + run.run_number;
    number.appendChild(link);
    cell(row, "td", run.head_branch || "");
  }

  function highlight(row) {
    row.classList.remove("changed");
    void row.offsetWidth; // restart the animation
    row.classList.add("changed");
  }

  function onChange(event) {
    // The table shows each workflow's latest run on the default branch; other branches' runs do not replace it.
    if (event.kind !== "run" || event.head_branch == null || event.head_branch !== event.default_branch) return;
    const row = table.querySelector('tr[data-repo="' + CSS.escape(event.repo) + '"][data-workflow="' + event.workflow_id + '"]');
    const latest = {
      workflow_id: event.workflow_id, workflow_name: event.workflow_name, status: event.status,
      conclusion: event.conclusion, run_number: event.run_number, html_url: event.html_url, head_branch: event.head_branch,
    };
    if (row) {
      render(row, event.repo, latest);
      highlight(row);
    }
  }

  function onSnapshot() {
    return fetch("/api/repos", { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (body) {
        body.repos.forEach(function (repo) {
          (repo.workflows || []).forEach(function (run) {
            let row = table.querySelector('tr[data-repo="' + CSS.escape(repo.full_name) + '"][data-workflow="' + run.workflow_id + '"]');
            if (!row) row = table.insertRow();
            render(row, repo.full_name, run);
          });
        });
      });
  }

  const transport = new URLSearchParams(location.search).get("transport");
  window.LiveClient.start({
    repos: repos.map(function (repo) { return repo.full_name; }),
    transport: transport,
    onChange: onChange,
    onSnapshot: onSnapshot,
  });
})();
