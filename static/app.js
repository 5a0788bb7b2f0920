// Runoff's enhancement script. Every page works without it.
(function () {
  "use strict";

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) node.textContent = text;
    return node;
  }

  function ordinal(n) {
    var s = ["th", "st", "nd", "rd"], v = n % 100;
    return n + (s[(v - 20) % 10] || s[v] || s[0]);
  }

  // The ballot's ranking control. It takes the place of the grid (one
  // group of choices per rank) and fills the same fields, rank1…rankN, so
  // the server sees the same form either way. Every change is made with
  // buttons and announced; dragging an item by its grip is an extra.
  // Duplicates cannot happen: a candidate is either ranked or on offer.
  function ranker(form) {
    var grid = form.querySelector("[data-grid]");
    // A grid the server marked with mistakes stays as it is, so the error
    // summary's links lead to the ranks at fault.
    if (!grid || grid.querySelector(".field-error")) return;
    var maxRanks = parseInt(form.dataset.ranks, 10) || 0;
    var candidates = {}, all = [];
    grid.querySelector("fieldset[data-rank]").querySelectorAll("input[type=radio]").forEach(function (input) {
      if (!input.value) return;
      candidates[input.value] = { id: input.value, name: input.dataset.name, description: input.dataset.description || "" };
      all.push(input.value);
    });
    var order = [];
    grid.querySelectorAll("fieldset[data-rank]").forEach(function (fs) {
      var picked = fs.querySelector("input:checked");
      if (picked && picked.value && candidates[picked.value] && order.indexOf(picked.value) < 0) order.push(picked.value);
    });

    var box = el("div", { "class": "ranker", "data-ranker": "" });
    var ranked = el("section", { "aria-labelledby": "ranker-ranked" });
    var rankedHeading = el("h2", { id: "ranker-ranked" });
    var list = el("ol", { "aria-labelledby": "ranker-ranked" });
    var empty = el("p", { "class": "empty" }, "Nobody yet. Choose candidates from the list to rank them, your favourite first.");
    ranked.append(rankedHeading, empty, list);
    var offered = el("section", { "aria-labelledby": "ranker-offered" });
    var offeredHint = el("p", { "class": "hint", id: "ranker-offered-hint" });
    var pool = el("ul", { "aria-labelledby": "ranker-offered", "aria-describedby": "ranker-offered-hint" });
    offered.append(el("h2", { id: "ranker-offered" }, "Candidates"), offeredHint, pool);
    var status = el("p", { "class": "ranker-status", role: "status", "aria-live": "polite" });
    var fields = el("div", { hidden: "" });
    box.append(ranked, offered);
    grid.replaceWith(box);
    box.after(status);
    form.append(fields);

    function say(text) { status.textContent = text; }

    function button(act, id, text, label) {
      var b = el("button", { type: "button", "class": "secondary", "data-act": act, "data-id": id }, text);
      if (label) b.setAttribute("aria-label", label);
      return b;
    }

    function render() {
      rankedHeading.textContent = "Your ranking (" + order.length + " of " + (maxRanks < all.length ? maxRanks + " allowed" : all.length) + ")";
      empty.hidden = order.length > 0;
      list.replaceChildren();
      order.forEach(function (id, i) {
        var c = candidates[id];
        var li = el("li", { "data-id": id, tabindex: "-1" });
        var name = el("span", { "class": "item-name" });
        name.append(el("span", { "class": "pos" }, ordinal(i + 1)), " ", c.name);
        var moves = el("div", { "class": "moves" });
        var up = button("up", id, "Up", "Move " + c.name + " up");
        var down = button("down", id, "Down", "Move " + c.name + " down");
        var top = button("top", id, "To top", "Move " + c.name + " to top");
        up.disabled = top.disabled = i === 0;
        down.disabled = i === order.length - 1;
        moves.append(up, down, top, button("remove", id, "Remove", "Remove " + c.name));
        li.append(el("span", { "class": "grip", "aria-hidden": "true", title: "Drag to move" }, "⠿"), name, moves);
        list.append(li);
      });
      pool.replaceChildren();
      var full = maxRanks > 0 && order.length >= maxRanks;
      all.forEach(function (id) {
        if (order.indexOf(id) >= 0) return;
        var c = candidates[id];
        var b = el("button", { type: "button", "data-act": "add", "data-id": id, "data-name": c.name });
        b.append(el("span", { "class": "item-name" }, c.name));
        if (c.description) b.append(el("span", { "class": "desc" }, c.description));
        b.append(el("span", { "class": "add-label" }, full ? "Your ranking is full" : "Add as your " + ordinal(order.length + 1) + " choice"));
        b.disabled = full;
        var li = el("li");
        li.append(b);
        pool.append(li);
      });
      offeredHint.textContent = order.length === all.length ? "You have ranked every candidate."
        : full ? "You have ranked the most this election allows (" + maxRanks + "). Remove someone to rank another."
        : "Choose a candidate to add them as your next choice. Rank as many or as few as you like.";
      fields.replaceChildren();
      order.forEach(function (id, i) {
        fields.append(el("input", { type: "hidden", name: "rank" + (i + 1), value: id }));
      });
    }

    // focusItem puts focus back on the item just moved: on the same button
    // where it is still enabled, else on the item itself.
    function focusItem(id, act) {
      var li = list.querySelector('li[data-id="' + id + '"]');
      if (!li) return;
      var b = li.querySelector('button[data-act="' + act + '"]');
      (b && !b.disabled ? b : li).focus();
    }

    function focusPool(index) {
      var buttons = pool.querySelectorAll("button:not([disabled])");
      if (buttons.length) buttons[Math.min(index, buttons.length - 1)].focus();
      else if (order.length) focusItem(order[order.length - 1], "remove");
    }

    box.addEventListener("click", function (ev) {
      var b = ev.target.closest("button[data-act]");
      if (!b || b.disabled) return;
      var id = b.dataset.id, act = b.dataset.act, name = candidates[id].name, i = order.indexOf(id);
      switch (act) {
        case "add":
          var at = Array.prototype.indexOf.call(pool.querySelectorAll("button"), b);
          order.push(id);
          render();
          say(name + " added as your " + ordinal(order.length) + " choice.");
          focusPool(at);
          return;
        case "up": if (i > 0) { order.splice(i, 1); order.splice(i - 1, 0, id); } break;
        case "down": if (i < order.length - 1) { order.splice(i, 1); order.splice(i + 1, 0, id); } break;
        case "top": order.splice(i, 1); order.unshift(id); break;
        case "remove":
          order.splice(i, 1);
          render();
          say(name + " removed. You have ranked " + order.length + " of " + all.length + ".");
          if (order.length) focusItem(order[Math.min(i, order.length - 1)], "remove");
          else focusPool(0);
          return;
      }
      render();
      say(name + " moved to " + ordinal(order.indexOf(id) + 1) + ".");
      focusItem(id, act);
    });

    // Dragging by the grip, with a mouse or a finger.
    var dragging = null;
    list.addEventListener("pointerdown", function (ev) {
      var grip = ev.target.closest(".grip");
      if (!grip) return;
      ev.preventDefault();
      dragging = grip.closest("li");
      dragging.classList.add("dragging");
      grip.setPointerCapture(ev.pointerId);
    });
    list.addEventListener("pointermove", function (ev) {
      if (!dragging) return;
      var items = Array.prototype.filter.call(list.children, function (li) { return li !== dragging; });
      var before = items.find(function (li) {
        var r = li.getBoundingClientRect();
        return ev.clientY < r.top + r.height / 2;
      });
      if (before) { if (dragging.nextSibling !== before) list.insertBefore(dragging, before); }
      else if (list.lastChild !== dragging) list.append(dragging);
    });
    function drop(ev) {
      if (!dragging) return;
      var id = dragging.dataset.id;
      dragging = null;
      if (ev.type === "pointerup") {
        order = Array.prototype.map.call(list.children, function (li) { return li.dataset.id; });
      }
      render();
      if (ev.type === "pointerup") say(candidates[id].name + " moved to " + ordinal(order.indexOf(id) + 1) + ".");
    }
    list.addEventListener("pointerup", drop);
    list.addEventListener("pointercancel", drop);

    form.addEventListener("submit", function (ev) {
      if (order.length === 0) {
        ev.preventDefault();
        say("Rank at least one candidate before you review your ballot.");
        focusPool(0);
      }
    });
    render();
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
    document.querySelectorAll("form[data-ballot]").forEach(ranker);
    document.querySelectorAll("button[data-copy]").forEach(copyButton);
    // A form that came back with mistakes: the summary takes focus (the
    // autofocus attribute does this too, where the browser honours it).
    var summary = document.getElementById("error-summary");
    if (summary && document.activeElement !== summary) summary.focus();
  });
})();
