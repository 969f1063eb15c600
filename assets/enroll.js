// onramp enrollment wizard: WireGuard key generation in the browser (WebCrypto X25519) and,
// on the last step, the config with the private key filled in, as a download and a QR code.
// The private key never leaves the browser: it waits in sessionStorage (this tab only)
// between the VPN step and the done page. Without JavaScript the wizard still works with a
// pasted public key.
(() => {
  'use strict';

  const PLACEHOLDER = 'PASTE_YOUR_PRIVATE_KEY_HERE';
  const storageKey = (publicKey) => 'onramp:wg:' + publicKey;
  const b64 = (bytes) => btoa(String.fromCharCode(...bytes));

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
        sessionStorage.setItem(storageKey(pair.publicKey), pair.privateKey);
        input.value = pair.publicKey;
        status.textContent = 'Key pair generated in this browser. The private key stays here and goes into your configuration on the last step.';
        button.textContent = 'Generate a new key pair';
      } catch (e) {
        status.textContent = 'Generating a key pair failed: ' + e + '. Paste a public key instead.';
      } finally {
        button.disabled = false;
      }
    });
  }

  function fillConfigs(root) {
    const publicKey = root.getAttribute('data-device-key');
    const privateKey = publicKey && sessionStorage.getItem(storageKey(publicKey));
    if (!privateKey) return;
    root.querySelectorAll('[data-config-for]').forEach((section) => {
      const pre = section.querySelector('[data-config-text]');
      const link = section.querySelector('[data-config-download]');
      if (!pre || !link) return;
      const text = pre.textContent.replace(PLACEHOLDER, privateKey);
      pre.textContent = text;
      link.href = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
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
  }

  document.querySelectorAll('[data-keygen]').forEach(setUpKeygen);
  document.querySelectorAll('[data-device-key]').forEach(fillConfigs);
})();
