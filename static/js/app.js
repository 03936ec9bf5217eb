// 1 jeune, 1 mentor: small enhancements on top of htmx 4. Everything works without them.
// No inline handlers or eval (the CSP forbids them): listeners are delegated on document,
// so content swapped in by htmx needs no re-binding.
(function () {
  "use strict";

  // --- Commune autocomplete: ARIA 1.2 combobox with list autocomplete -----------------
  // Markup: templates/macros/commune.html; options: /communes/suggestions.

  var COMBOBOX = 'input[role="combobox"][aria-controls]';

  function listboxOf(input) {
    return document.getElementById(input.getAttribute("aria-controls"));
  }

  function optionsOf(listbox) {
    return Array.prototype.slice.call(listbox.querySelectorAll('[role="option"]'));
  }

  function setActive(input, listbox, option) {
    optionsOf(listbox).forEach(function (each) {
      var active = each === option;
      each.classList.toggle("combobox__option--active", active);
      each.setAttribute("aria-selected", active ? "true" : "false");
    });
    if (option) {
      input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function isOpen(input) {
    return input.getAttribute("aria-expanded") === "true";
  }

  function open(input, listbox) {
    listbox.hidden = false;
    input.setAttribute("aria-expanded", "true");
  }

  function close(input, listbox) {
    setActive(input, listbox, null);
    listbox.hidden = true;
    input.setAttribute("aria-expanded", "false");
  }

  function pick(input, listbox, option) {
    input.value = option.getAttribute("data-value");
    close(input, listbox);
  }

  // Moves the highlight by `step` (+1 down, -1 up), wrapping at both ends.
  function move(input, listbox, step) {
    var options = optionsOf(listbox);
    if (!options.length) return;
    var current = options.indexOf(document.getElementById(input.getAttribute("aria-activedescendant")));
    var next = current === -1 ? (step > 0 ? 0 : options.length - 1)
      : (current + step + options.length) % options.length;
    open(input, listbox);
    setActive(input, listbox, options[next]);
  }

  function onKeydown(event) {
    var input = event.target;
    if (!input.matches || !input.matches(COMBOBOX)) return;
    var listbox = listboxOf(input);
    if (!listbox) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      move(input, listbox, event.key === "ArrowDown" ? 1 : -1);
    } else if (event.key === "Enter" && isOpen(input)) {
      // Enter on a highlighted option picks it and does not submit; with nothing
      // highlighted the list closes and the form is sent as typed.
      var active = document.getElementById(input.getAttribute("aria-activedescendant"));
      close(input, listbox);
      if (active) {
        event.preventDefault();
        pick(input, listbox, active);
      }
    } else if (event.key === "Escape" && isOpen(input)) {
      event.preventDefault();
      close(input, listbox);
    }
  }

  function optionFromEvent(event) {
    var option = event.target.closest && event.target.closest('[role="option"]');
    var listbox = option && option.closest('[role="listbox"]');
    var input = listbox && document.querySelector(COMBOBOX + '[aria-controls="' + listbox.id + '"]');
    return input ? { input: input, listbox: listbox, option: option } : null;
  }

  // Keep the focus in the input while an option is pressed, or blur would close the list
  // before the click lands (mouse and touch alike).
  function onPointerDown(event) {
    if (optionFromEvent(event)) event.preventDefault();
  }

  function onClick(event) {
    var hit = optionFromEvent(event);
    if (!hit) return;
    pick(hit.input, hit.listbox, hit.option);
    hit.input.focus();
  }

  function onFocusOut(event) {
    var input = event.target;
    if (input.matches && input.matches(COMBOBOX) && isOpen(input)) {
      close(input, listboxOf(input));
    }
  }

  // The page says "combobox" only once this script runs: without JS the field is a
  // plain text input, and a screen reader must not announce a list that never opens.
  function enhance(root) {
    var inputs = root.querySelectorAll ? root.querySelectorAll("input[data-listbox]") : [];
    Array.prototype.forEach.call(inputs, function (input) {
      input.setAttribute("role", "combobox");
      input.setAttribute("aria-autocomplete", "list");
      input.setAttribute("aria-expanded", "false");
      input.setAttribute("aria-controls", input.getAttribute("data-listbox"));
    });
  }

  // New options arrived: show them if the person is still in the field.
  function afterSuggestions(input) {
    var listbox = listboxOf(input);
    if (!listbox) return;
    if (optionsOf(listbox).length && document.activeElement === input) {
      open(input, listbox);
      setActive(input, listbox, null);
    } else {
      close(input, listbox);
    }
  }

  // --- Conditional field: asked only while one of some boxes is ticked --------------------
  // Markup: templates/questionnaire/step.html, <div data-shown-by="situations"
  // data-shown-values="ase handicap" hidden>. The server renders it shown when it must be
  // answered (a stored answer, an error), so without JS nothing is lost.

  var CONDITIONAL = "[data-shown-by]";

  function controllersOf(zone) {
    var values = zone.getAttribute("data-shown-values").split(" ");
    var name = zone.getAttribute("data-shown-by");
    var form = zone.closest("form");
    var boxes = form ? form.querySelectorAll("input[name]") : [];
    return Array.prototype.filter.call(boxes, function (box) {
      return box.name === name && values.indexOf(box.value) !== -1;
    });
  }

  function syncConditional(zone) {
    zone.hidden = !controllersOf(zone).some(function (box) { return box.checked; });
  }

  function onChange(event) {
    var box = event.target;
    if (!box.form) return;
    Array.prototype.forEach.call(box.form.querySelectorAll(CONDITIONAL), function (zone) {
      if (zone.getAttribute("data-shown-by") === box.name) syncConditional(zone);
    });
  }

  // The boxes say which region they open; the state is read again, as the browser may
  // have restored ticks (back button) the server did not render.
  function enhanceConditionals(root) {
    var zones = root.querySelectorAll ? root.querySelectorAll(CONDITIONAL) : [];
    Array.prototype.forEach.call(zones, function (zone) {
      controllersOf(zone).forEach(function (box) { box.setAttribute("aria-controls", zone.id); });
      syncConditional(zone);
    });
  }

  // --- « Copier le lien »: a button only where JS and the Clipboard API are there ------
  // Markup: <div data-copy="ID of the link" data-copied="text once copied"></div>.
  function enhanceCopy(root) {
    if (!navigator.clipboard || !window.isSecureContext) return;
    Array.prototype.forEach.call(root.querySelectorAll("[data-copy]:not([data-copy-ready])"), function (holder) {
      holder.setAttribute("data-copy-ready", "");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "button button--secondary copy__button";
      button.textContent = "Copier le lien";
      var status = document.createElement("span");
      status.className = "copy__status";
      status.setAttribute("role", "status");
      holder.appendChild(button);
      holder.appendChild(status);
    });
  }

  function onCopyClick(event) {
    var button = event.target.closest && event.target.closest(".copy__button");
    if (!button) return;
    var holder = button.parentNode;
    var link = document.getElementById(holder.getAttribute("data-copy"));
    var status = holder.querySelector(".copy__status");
    navigator.clipboard.writeText(link.href).then(
      function () { status.textContent = holder.getAttribute("data-copied"); },
      function () { status.textContent = "La copie n'a pas marché : sélectionnez le lien."; }
    );
  }

  // Focus after a page swap: htmx 4 focuses the new [autofocus] heading or error summary.
  function onAfterSwap(event) {
    var source = event.target;
    if (source.matches && source.matches(COMBOBOX)) afterSuggestions(source);
    else {
      enhance(document);
      enhanceConditionals(document);
      enhanceCopy(document);
    }
  }

  document.addEventListener("keydown", onKeydown);
  document.addEventListener("mousedown", onPointerDown);
  document.addEventListener("click", onClick);
  document.addEventListener("focusout", onFocusOut);
  document.addEventListener("change", onChange);
  document.addEventListener("click", onCopyClick);
  document.addEventListener("htmx:after:swap", onAfterSwap);
  enhance(document);
  enhanceConditionals(document);
  enhanceCopy(document);
})();
