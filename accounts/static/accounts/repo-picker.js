// Filters the repository picker as you type; without JavaScript every repository is simply listed.
const search = document.getElementById("repo-search");
if (search) {
  const rows = [...document.querySelectorAll(".repo-picker tbody tr[data-repo]")];
  search.addEventListener("input", () => {
    const query = search.value.trim().toLowerCase();
    for (const row of rows) row.hidden = query !== "" && !row.dataset.repo.includes(query);
  });
}
