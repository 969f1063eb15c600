// onramp enrollment wizard: WireGuard key generation in the browser (WebCrypto X25519) and,
// on the last step, the config with the private key filled in, as a download and a QR code.
// The private key never leaves the browser: it waits in sessionStorage (this tab only)
// between the VPN step and the done page; localStorage keeps only the fact that this browser
// made a key for a public key, so another tab can say the private key is gone. Without
// JavaScript the wizard still works with a pasted public key.
// "My account" makes a new device's key pair the same way: made when the form loads, the
// private key kept in this tab once the form is sent, the configs filled in on the answer.
// Also: focus on each step's heading, errors cleared once their field changes, the
// show-password toggle, and the last minute of the wizard's clock.
(() => {
  'use strict';

  const PLACEHOLDER = 'PASTE_YOUR_PRIVATE_KEY_HERE';
  const storageKey = (publicKey) => 'onramp:wg:' + publicKey;
  const madeHereKey = (publicKey) => 'onramp:wg-made:' + publicKey;
  const remember = (store, key, value) => {
    try { store.setItem(key, value); } catch (_) { /* storage full or blocked */ }
  };
  const recall = (store, key) => {
    try { return store.getItem(key); } catch (_) { return null; }
  };
  const b64 = (bytes) => btoa(String.fromCharCode(...bytes));
  // Each box is set up once, whether found at load or swapped in by htmx.
  const seen = new WeakSet();
  const once = (fn) => (el) => {
    if (seen.has(el)) return;
    seen.add(el);
    fn(el);
  };

  async function generateKeyPair() {
    const pair = await crypto.subtle.generateKey({ name: 'X25519' }, true, ['deriveBits']);
    const pub = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
    // PKCS#8 for X25519 ends with the 32-byte private key.
    const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey));
    return { publicKey: b64(pub), privateKey: b64(pkcs8.slice(-32)) };
  }

  async function canGenerate() {
    if (!window.isSecureContext || !window.crypto || !crypto.subtle) return false;
    try {
      await crypto.subtle.generateKey({ name: 'X25519' }, false, ['deriveBits']);
      return true;
    } catch (_) {
      return false;
    }
  }

  async function setUpKeygen(box) {
    const button = box.querySelector('[data-keygen-button]');
    const status = box.querySelector('[data-keygen-status]');
    const input = document.getElementById('public_key');
    if (!button || !status || !input) return;
    if (!(await canGenerate())) {
      status.textContent = window.isSecureContext
        ? 'This browser cannot generate WireGuard keys. Make a key pair with "wg genkey | tee private.key | wg pubkey" and paste the public key below.'
        : 'Key generation needs a secure page (https or localhost), and this page is not one. Make a key pair with "wg genkey | tee private.key | wg pubkey" and paste the public key below.';
      return;
    }
    button.hidden = false;
    status.textContent = 'Generate a key pair here, or paste the public key of one you made yourself.';
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        const pair = await generateKeyPair();
        remember(sessionStorage, storageKey(pair.publicKey), pair.privateKey);
        remember(localStorage, madeHereKey(pair.publicKey), '1');
        input.value = pair.publicKey;
        // A generated key fixes the key's error; the name's too, when it has a value now.
        input.dispatchEvent(new Event('input', { bubbles: true }));
        const name = document.getElementById('device_name');
        if (name && name.value.trim()) name.dispatchEvent(new Event('input', { bubbles: true }));
        status.textContent = 'Key pair generated in this browser. The private key stays here and goes into your configuration on the last step.';
        button.textContent = 'Generate a new key pair';
      } catch (e) {
        status.textContent = 'Generating a key pair failed: ' + e + '. Paste a public key instead.';
      } finally {
        button.disabled = false;
      }
    });
  }

  // "Add a device" on /me: "Make it in this browser" fills the public key with a key pair made
  // here and hides the field; "Use a public key" shows it. A browser that cannot make keys
  // keeps only the pasted key.
  async function setUpOwnKeygen(choice) {
    const form = choice.closest('form');
    const input = form?.querySelector('#public_key');
    const field = form?.querySelector('[data-own-key-field]');
    const browser = choice.querySelector('input[value="browser"]');
    const paste = choice.querySelector('input[value="paste"]');
    if (!form || !input || !field || !browser || !paste) return;
    if (!(await canGenerate())) {
      paste.checked = true;
      choice.hidden = true;
      return;
    }
    const pair = await generateKeyPair();
    const sync = () => {
      if (browser.checked) {
        input.value = pair.publicKey;
        field.hidden = true;
      } else {
        if (input.value === pair.publicKey) input.value = '';
        field.hidden = false;
      }
    };
    choice.addEventListener('change', sync);
    sync();
    form.addEventListener('submit', () => {
      if (!browser.checked) return;
      remember(sessionStorage, storageKey(pair.publicKey), pair.privateKey);
      remember(localStorage, madeHereKey(pair.publicKey), '1');
    });
  }

  function fillConfigs(root) {
    const publicKey = root.getAttribute('data-device-key');
    const privateKey = publicKey && recall(sessionStorage, storageKey(publicKey));
    if (!privateKey) {
      // Made in another tab of this browser, which is gone: say so instead of the wg genkey hint.
      if (publicKey && recall(localStorage, madeHereKey(publicKey))) {
        root.querySelector('[data-key-gone]')?.removeAttribute('hidden');
        root.querySelectorAll('[data-config-actions], [data-key-missing], [data-quick-guide]').forEach((el) => el.setAttribute('hidden', ''));
      }
      return;
    }
    let saved = false;
    root.querySelector('[data-key-warning]')?.removeAttribute('hidden');
    root.querySelectorAll('[data-config-for]').forEach((section) => {
      const pre = section.querySelector('[data-config-text]');
      const link = section.querySelector('[data-config-download]');
      if (!pre || !link) return;
      const text = pre.textContent.replace(PLACEHOLDER, privateKey);
      pre.textContent = text;
      link.href = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
      link.addEventListener('click', () => { saved = true; });
      section.querySelector('[data-copy-target]')?.addEventListener('click', () => { saved = true; });
      section.querySelector('[data-key-missing]')?.setAttribute('hidden', '');
      const qrBox = section.querySelector('[data-qr]');
      if (qrBox && typeof window.qrcode === 'function') {
        const qr = window.qrcode(0, 'L');
        qr.addData(text);
        qr.make();
        const img = document.createElement('img');
        img.src = qr.createDataURL(4, 4);
        img.alt = 'QR code of the configuration for ' + (section.querySelector('h3')?.textContent || 'this location');
        qrBox.replaceChildren(img);
        qrBox.hidden = false;
      }
    });
    // Leaving before saving anything loses the key for good: the browser asks first.
    window.addEventListener('beforeunload', (evt) => {
      if (saved) return;
      evt.preventDefault();
      evt.returnValue = '';
    });
  }

  // ---- Errors cleared once their field changes ----------------------------------------------
  // The summary's entry and the field's message go; the summary goes with its last entry.
  document.addEventListener('input', (evt) => {
    const field = evt.target;
    if (!(field instanceof HTMLInputElement) || field.getAttribute('aria-invalid') !== 'true') return;
    if (!field.value.trim()) return;
    field.removeAttribute('aria-invalid');
    const error = document.getElementById(field.id + '-error');
    if (error) {
      error.remove();
      const rest = (field.getAttribute('aria-describedby') || '').split(' ').filter((id) => id && id !== error.id);
      if (rest.length) field.setAttribute('aria-describedby', rest.join(' '));
      else field.removeAttribute('aria-describedby');
    }
    const summary = document.querySelector('.form-errors');
    summary?.querySelector(`a[href="#${CSS.escape(field.id)}"]`)?.closest('li')?.remove();
    if (summary && !summary.querySelector('li')) summary.remove();
  });

  // ---- Show password -----------------------------------------------------------------------
  document.querySelectorAll('[data-reveal-toggle]').forEach((button) => {
    button.addEventListener('click', () => {
      const show = button.getAttribute('aria-pressed') !== 'true';
      for (const id of (button.getAttribute('aria-controls') || '').split(' ')) {
        const input = document.getElementById(id);
        if (input) input.type = show ? 'text' : 'password';
      }
      // A toggle button: its name stays, its pressed state tells whether the text shows.
      button.setAttribute('aria-pressed', String(show));
    });
  });

  // ---- The wizard's clock ------------------------------------------------------------------
  // app.js counts down; here the last minute is announced once, politely, and at zero the
  // forms are disabled under a banner, since nothing can be saved any more.
  const clock = document.querySelector('.wizard time[data-countdown][datetime]');
  if (clock) {
    const end = Date.parse(clock.getAttribute('datetime'));
    const warning = document.querySelector('[data-time-warning]');
    const banner = document.querySelector('[data-time-up]');
    let warned = false;
    const watch = () => {
      const left = end - Date.now();
      if (left <= 0) {
        clearInterval(timer);
        if (warning) warning.textContent = '';
        banner?.removeAttribute('hidden');
        document.querySelectorAll('.wizard form').forEach((form) => {
          form.querySelectorAll('input, button, select, textarea').forEach((el) => { el.disabled = true; });
        });
      } else if (left <= 60000 && !warned) {
        warned = true;
        if (warning) warning.textContent = 'Less than a minute left. Finish this step now; when time is up, nothing more can be saved.';
      }
    };
    const timer = Number.isNaN(end) ? 0 : setInterval(watch, 1000);
    if (timer) watch();
  }

  // ---- Focus -------------------------------------------------------------------------------
  // Each step is a new page; its heading takes focus so screen readers start there. An error
  // summary, when there is one, takes it instead (app.js).
  if (!document.querySelector('.form-errors')) document.querySelector('[data-step-heading]')?.focus();

  document.querySelectorAll('[data-keygen]').forEach(setUpKeygen);
  document.querySelectorAll('[data-device-key]').forEach(once(fillConfigs));
  document.querySelectorAll('[data-own-keygen]').forEach(once(setUpOwnKeygen));
  // htmx swaps in the added device's configs, or the form again after an error.
  document.body.addEventListener('htmx:load', (evt) => {
    const el = evt.detail?.elt;
    if (!(el instanceof Element)) return;
    el.querySelectorAll('[data-device-key]').forEach(once(fillConfigs));
    el.querySelectorAll('[data-own-keygen]').forEach(once(setUpOwnKeygen));
  });
})();
