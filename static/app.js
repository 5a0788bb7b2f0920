// Runoff's enhancement script. Every page works without it.
// On a ballot, a candidate chosen at one rank is marked as taken at the
// others, and the ranking so far is read back in words.
(function () {
  "use strict";
  function ballot(form) {
    var summary = form.querySelector("[data-ranking-summary]");
    function update() {
      var chosen = {};
      var order = [];
      form.querySelectorAll("fieldset[data-rank]").forEach(function (fs) {
        var picked = fs.querySelector("input:checked");
        if (picked && picked.value) {
          chosen[picked.value] = fs.dataset.rank;
          order.push(picked.dataset.name);
        }
      });
      form.querySelectorAll("fieldset[data-rank] input[type=radio]").forEach(function (input) {
        var rank = input.closest("fieldset").dataset.rank;
        var label = input.closest("label");
        var takenElsewhere = input.value && chosen[input.value] && chosen[input.value] !== rank;
        label.classList.toggle("taken", !!takenElsewhere);
      });
      if (summary) {
        summary.textContent = order.length
          ? "Your ranking: " + order.map(function (n, i) { return (i + 1) + ". " + n; }).join(", ")
          : "You have not ranked anyone yet.";
      }
    }
    form.addEventListener("change", update);
    update();
  }
  // A link to share gets a copy button where the browser can copy.
  function copyButton(button) {
    if (!navigator.clipboard) return;
    var status = button.parentNode.querySelector("[data-copy-status]");
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(button.dataset.copy).then(function () {
        if (status) status.textContent = "Link copied.";
      }, function () {
        if (status) status.textContent = "Could not copy; select the link above instead.";
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-ballot]").forEach(ballot);
    document.querySelectorAll("button[data-copy]").forEach(copyButton);
  });
})();
