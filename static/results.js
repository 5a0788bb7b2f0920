// The results page follows a count live: htmx's sse extension swaps each
// update pushed by the server into the region. Where server-sent events
// do not get through (no EventSource, or a proxy that cuts the stream
// again and again), this falls back to asking for the page every 10 s and
// swapping in the same region. Without JavaScript the page says to reload.
(function () {
  "use strict";
  var failures = 0, polling = null;
  function poll(region) {
    if (polling) return;
    polling = setInterval(function () {
      if (!document.body.contains(region)) { clearInterval(polling); return; }
      htmx.ajax("GET", region.dataset.livePoll, { target: "#results-live", select: "#results-live > *", swap: "innerHTML" });
    }, 10000);
  }
  document.addEventListener("DOMContentLoaded", function () {
    var region = document.querySelector("#results-live[data-live-poll]");
    if (!region || typeof htmx === "undefined") return;
    // Each update is announced once, in words, from a status line outside
    // the region, rather than the whole region being read again.
    var announce = document.getElementById("results-announce"), said = "";
    region.addEventListener("htmx:afterSwap", function () {
      var banner = region.querySelector(".banner-text");
      var now = banner ? "Results updated: " + banner.textContent.trim() : "Results updated.";
      if (announce && now !== said) { announce.textContent = now; said = now; }
    });
    if (!window.EventSource) { poll(region); return; }
    region.addEventListener("htmx:sseOpen", function () { failures = 0; });
    region.addEventListener("htmx:sseError", function () {
      failures++;
      if (failures >= 3) {
        var source = region["htmx-internal-data"] && region["htmx-internal-data"].sseEventSource;
        if (source) source.close();
        region.removeAttribute("sse-connect");
        poll(region);
      }
    });
  });
})();
