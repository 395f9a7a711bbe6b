// Sortable report tables: click a column header of <table class="sortable"> to sort by it (again to reverse).
// Cells may carry data-value (raw number) so formatted amounts sort numerically.
document.addEventListener("click", function (event) {
  var header = event.target.closest("table.sortable th");
  if (!header) return;
  var table = header.closest("table");
  var index = Array.prototype.indexOf.call(header.parentNode.children, header);
  var body = table.tBodies[0];
  var ascending = header.getAttribute("aria-sort") !== "ascending";
  Array.prototype.forEach.call(header.parentNode.children, function (th) { th.removeAttribute("aria-sort"); });
  header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  var key = function (row) {
    var cell = row.children[index];
    var raw = cell.getAttribute("data-value");
    if (raw !== null && raw !== "" && !isNaN(Number(raw))) return Number(raw);
    return cell.textContent.trim().toLowerCase();
  };
  var rows = Array.prototype.slice.call(body.rows);
  rows.sort(function (a, b) {
    var x = key(a), y = key(b);
    var result = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
    return ascending ? result : -result;
  });
  rows.forEach(function (row) { body.appendChild(row); });
});
