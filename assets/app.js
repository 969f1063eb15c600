// onramp: small enhancements on top of server-rendered pages that work without JavaScript.
// Loaded with `defer`; no inline handlers, no eval, no inline styles (CSP `script-src 'self'`).
(() => {
  'use strict';

  const root = document.documentElement;
  if (!root.classList.replace('no-js', 'js')) root.classList.add('js');

  // ---- Row action menus -------------------------------------------------------------------
  // The server renders a button that GETs the menu fragment into `.menu-slot` (htmx), or, without
  // JavaScript, submits a GET form to a page showing the same list. Open state lives in the DOM
  // (`aria-expanded` + a non-empty slot), so swapped-in rows need no set-up.
  const ITEM = '[role="menuitem"]';
  const buttonOf = (menu) => menu.querySelector('.menu-button');
  const itemsOf = (menu) => Array.from(menu.querySelectorAll('.menu-list ' + ITEM));
  const isDisabled = (el) => el.getAttribute('aria-disabled') === 'true';
  // Without JavaScript the button leads to a page, so it only announces a popup menu once
  // this script runs; rows swapped in later get the same treatment.
  const announceMenus = (root) => {
    root.querySelectorAll?.('[data-menu] .menu-button:not([aria-haspopup])').forEach((b) => {
      b.setAttribute('aria-haspopup', 'menu');
      b.setAttribute('aria-expanded', 'false');
    });
  };
  announceMenus(document);
  document.addEventListener('htmx:load', (evt) => announceMenus(evt.target));
  const openMenus = () =>
    Array.from(document.querySelectorAll('[data-menu] .menu-button[aria-expanded="true"]'), (b) => b.closest('[data-menu]'));

  /** Closes `menu` (a `[data-menu]` element); focuses its button when `focusButton` is true. */
  function closeMenu(menu, focusButton) {
    const button = buttonOf(menu);
    const slot = menu.querySelector('.menu-slot');
    if (slot) slot.replaceChildren();
    if (!button) return;
    button.setAttribute('aria-expanded', 'false');
    if (focusButton) button.focus();
  }

  function closeOtherMenus(except) {
    for (const menu of openMenus()) if (menu !== except) closeMenu(menu, false);
  }

  function focusItem(items, index) {
    if (!items.length) return;
    items[(index + items.length) % items.length].focus(); // wraps both ways
  }

  function menuLoaded(slot) {
    const menu = slot.closest('[data-menu]');
    const items = menu ? itemsOf(menu) : [];
    if (!items.length) return;
    closeOtherMenus(menu);
    buttonOf(menu)?.setAttribute('aria-expanded', 'true');
    // Roving focus: arrows move between items, Tab leaves the menu in one step.
    for (const item of items) item.setAttribute('tabindex', '-1');
    (items.find((item) => !isDisabled(item)) || items[0]).focus();
  }

  // A second click on an open menu's button closes it instead of fetching it again.
  document.addEventListener('htmx:beforeRequest', (evt) => {
    const button = evt.target instanceof Element ? evt.target.closest('.menu-button') : null;
    if (!button || button.getAttribute('aria-expanded') !== 'true') return;
    evt.preventDefault();
    const menu = button.closest('[data-menu]');
    if (menu) closeMenu(menu, true);
  });

  document.addEventListener('keydown', (evt) => {
    const t = evt.target;
    if (!(t instanceof Element)) return;
    const menu = t.closest('[data-menu]');
    if (!menu) return;
    const button = buttonOf(menu);
    const open = button?.getAttribute('aria-expanded') === 'true';

    if (t === button) {
      if (evt.key === 'ArrowDown') {
        evt.preventDefault();
        if (open) focusItem(itemsOf(menu), 0);
        else button.click(); // lets htmx load the menu; menuLoaded() then moves focus into it
      } else if (evt.key === 'Escape' && open) {
        evt.preventDefault();
        closeMenu(menu, true);
      }
      return;
    }
    if (!t.matches(ITEM) || !t.closest('.menu-list')) return;
    const items = itemsOf(menu);
    const index = items.indexOf(t);
    switch (evt.key) {
      case 'ArrowDown': evt.preventDefault(); focusItem(items, index + 1); break;
      case 'ArrowUp': evt.preventDefault(); focusItem(items, index - 1); break;
      case 'Home': evt.preventDefault(); focusItem(items, 0); break;
      case 'End': evt.preventDefault(); focusItem(items, items.length - 1); break;
      case 'Escape': evt.preventDefault(); closeMenu(menu, true); break;
      // Close only after the browser has moved focus, so Tab lands where it naturally would.
      case 'Tab': setTimeout(() => closeMenu(menu, false), 0); break;
      case 'Enter':
      case ' ':
        // Disabled items are focusable (screen readers announce them) but do nothing.
        if (isDisabled(t)) evt.preventDefault();
        // Space activates buttons natively; for links it would scroll the page instead.
        else if (evt.key === ' ' && t.matches('a')) { evt.preventDefault(); t.click(); }
        break;
    }
  });

  document.addEventListener('click', (evt) => {
    const t = evt.target instanceof Element ? evt.target : null;
    if (t?.closest(ITEM + '[aria-disabled="true"]')) evt.preventDefault();
    // A click outside closes open menus; focus stays wherever the click put it.
    for (const menu of openMenus()) if (!t || !menu.contains(t)) closeMenu(menu, false);
  });

  // ---- Focus after swaps ------------------------------------------------------------------
  // When a swap removes the focused element (e.g. "Disable" replaces its own table row), focus
  // would fall back to <body>. Put it on the new row's menu button, found by `data-username`.
  let focusedBeforeSwap = null;
  let focusedRowName = null;
  document.addEventListener('htmx:beforeSwap', () => {
    focusedBeforeSwap = document.activeElement;
    focusedRowName = focusedBeforeSwap?.closest('tr[data-user-row]')?.dataset.username ?? null;
  });

  document.addEventListener('htmx:afterSwap', (evt) => {
    const target = evt.target;
    if (!(target instanceof Element)) return;
    if (target.matches('.menu-slot')) { menuLoaded(target); return; }

    if (focusedRowName !== null && focusedBeforeSwap && !focusedBeforeSwap.isConnected) {
      const row = Array.from(document.querySelectorAll('tr[data-user-row]'))
        .find((tr) => tr.dataset.username === focusedRowName);
      const button = row?.querySelector('.menu-button');
      if (button) { button.focus(); focusedRowName = null; }
    }
    // A form re-rendered with errors (422) gets the same treatment as a full page load.
    target.querySelector('.form-errors')?.focus();
  });

  // A page that stands for one step of its own (the token dialog) starts at its heading;
  // server-rendered error summaries (tabindex="-1") come first when there are any.
  document.querySelector('[data-autofocus]')?.focus();
  document.querySelector('.form-errors')?.focus();

  // A notice swapped into the live region (#flash-area) replaces the page's earlier ones.
  document.addEventListener('htmx:oobAfterSwap', (evt) => {
    if (evt.detail?.target?.id !== 'flash-area') return;
    document.querySelectorAll('#main > .flash, #main > .flash-error').forEach((el) => el.remove());
  });

  // ---- Copy buttons ------------------------------------------------------------------------
  // <button data-copy-target="#token">Copy</button> <span class="copy-status" role="status"></span>
  const copyTimers = new WeakMap();

  function copyFeedback(button, label, message) {
    const status = button.parentElement?.querySelector('.copy-status[role="status"]');
    if (!button.dataset.label) button.dataset.label = button.textContent;
    if (label) button.textContent = label;
    if (status) status.textContent = message;
    clearTimeout(copyTimers.get(button));
    copyTimers.set(button, setTimeout(() => {
      button.textContent = button.dataset.label;
      // Emptied so the same message is announced again on the next copy.
      if (status) status.textContent = '';
    }, 2000));
  }

  document.addEventListener('click', async (evt) => {
    const button = evt.target instanceof Element ? evt.target.closest('button[data-copy-target]') : null;
    if (!button) return;
    evt.preventDefault();
    let source = null;
    try { source = document.querySelector(button.dataset.copyTarget); } catch { /* bad selector */ }
    if (!source) return;
    const isField = source instanceof HTMLInputElement || source instanceof HTMLTextAreaElement;
    const text = isField ? source.value : source.textContent.trim();
    try {
      await navigator.clipboard.writeText(text); // undefined outside secure contexts: caught below
      copyFeedback(button, 'Copied', 'Copied to clipboard.');
    } catch {
      // Fall back to selecting the text so the user can copy it themselves.
      if (isField) source.select();
      else window.getSelection()?.selectAllChildren(source);
      copyFeedback(button, null, 'Could not copy automatically. The text is selected: press Ctrl+C (or ⌘C).');
    }
  });

  // ---- Countdowns --------------------------------------------------------------------------
  // <time data-countdown datetime="2025-01-01T12:00:00Z">until 12:00 UTC</time>: the server's
  // text stays as the fallback without JavaScript and as the tooltip with it.
  const pad = (n) => String(n).padStart(2, '0');

  function tick() {
    const now = Date.now();
    for (const el of document.querySelectorAll('time[data-countdown][datetime]')) {
      const end = Date.parse(el.getAttribute('datetime'));
      if (Number.isNaN(end)) continue;
      if (!el.title) el.title = el.textContent.trim();
      const s = Math.max(0, Math.ceil((end - now) / 1000));
      const h = Math.floor(s / 3600);
      const mmss = `${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
      const text = s === 0 ? 'expired' : `${h ? h + ':' : ''}${mmss} left`;
      if (el.textContent !== text) el.textContent = text;
    }
  }
  tick();
  setInterval(tick, 1000);

  // ---- Local times -------------------------------------------------------------------------
  // <time data-local datetime="2025-01-01T12:00:00Z">2025-01-01 12:00 UTC</time> reads as the
  // reader's local time and how far away it is; the UTC text stays as the tooltip.
  const relative = new Intl.RelativeTimeFormat('en', { numeric: 'always' });
  const UNITS = [['day', 86400], ['hour', 3600], ['minute', 60]];

  function fromNow(ms) {
    const s = Math.round(ms / 1000);
    if (Math.abs(s) < 60) return 'just now';
    for (const [unit, size] of UNITS) {
      if (Math.abs(s) >= size) return relative.format(Math.trunc(s / size), unit);
    }
    return 'just now';
  }

  function localTimes(root) {
    root.querySelectorAll?.('time[data-local][datetime]').forEach((el) => {
      const at = Date.parse(el.getAttribute('datetime'));
      if (Number.isNaN(at)) return;
      if (!el.title) el.title = el.textContent.trim();
      const local = new Date(at).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
      el.textContent = `${local} (${fromNow(at - Date.now())})`;
    });
  }
  localTimes(document);
  document.addEventListener('htmx:load', (evt) => localTimes(evt.target));
})();
