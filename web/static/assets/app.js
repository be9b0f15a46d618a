// Portrait's try-it page: accounts, a square crop over the chosen picture,
// the contract's upload, and the stored sizes. Plain DOM, no framework; no
// string ever becomes markup (the page enforces Trusted Types).
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const el = (tag, props = {}, ...children) => {
    const e = Object.assign(document.createElement(tag), props);
    e.append(...children);
    return e;
  };

  // ---- The API -----------------------------------------------------------

  /** ApiError is a failed call: the problem document's detail, code and
   *  field errors, or a sentence of ours when there is no document. */
  class ApiError extends Error {
    constructor(status, problem) {
      super(problem.detail);
      this.status = status;
      this.code = problem.code || "";
      this.fields = Array.isArray(problem.errors) ? problem.errors : [];
    }
  }

  const session = {
    key: "portrait.token",
    get() {
      try { return sessionStorage.getItem(this.key); } catch { return null; }
    },
    set(token) {
      try { sessionStorage.setItem(this.key, token); } catch { /* private mode: this tab only */ }
      this.memory = token;
    },
    clear() {
      try { sessionStorage.removeItem(this.key); } catch { /* nothing kept */ }
      this.memory = null;
    },
    token() { return this.get() || this.memory || null; },
  };

  /** api calls the API that served this page (paths are relative, so that
   *  it works behind a proxy's path prefix too) and returns its JSON body
   *  (null for 204), or throws an ApiError. */
  async function api(method, path, { json, form } = {}) {
    const headers = { Accept: "application/json" };
    const token = session.token();
    if (token) headers.Authorization = "Bearer " + token;
    let body;
    if (json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(json);
    } else if (form) {
      body = form;
    }
    let resp;
    try {
      resp = await fetch(path, { method, headers, body, cache: "no-store", credentials: "omit" });
    } catch {
      throw new ApiError(0, { detail: "The server cannot be reached. Check that it is running, then try again." });
    }
    if (resp.status === 204) return null;
    let doc = null;
    if ((resp.headers.get("Content-Type") || "").includes("json")) {
      doc = await resp.json().catch(() => null);
    }
    if (!resp.ok) {
      const fallback = { detail: `The server answered ${resp.status} ${resp.statusText}`.trim() + "." };
      throw new ApiError(resp.status, doc && typeof doc.detail === "string" ? doc : fallback);
    }
    return doc;
  }

  // ---- Messages ----------------------------------------------------------

  function showError(target, err) {
    target.textContent = err instanceof ApiError ? err.message : "Something went wrong: " + err;
    target.hidden = false;
  }

  function clearError(target) {
    target.textContent = "";
    target.hidden = true;
  }

  function say(text) {
    $("status").textContent = text;
  }

  /** failed shows err in target, or, when the session's token is no longer
   *  accepted, goes back to the login form and says why there. */
  function failed(target, err) {
    if (err instanceof ApiError && err.status === 401 && session.token()) {
      session.clear();
      showAuth("login");
      showError($("login-error"), err);
      return;
    }
    showError(target, err);
  }

  async function busy(button, work) {
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    try {
      await work();
    } finally {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  }

  // ---- Signed out: tabs, log in, sign up ---------------------------------

  const tabs = [$("tab-login"), $("tab-register")];

  function selectTab(tab, focus) {
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute("aria-selected", String(on));
      t.tabIndex = on ? 0 : -1;
      $(t.getAttribute("aria-controls")).hidden = !on;
    }
    if (focus) tab.focus();
  }

  for (const tab of tabs) {
    tab.addEventListener("click", () => selectTab(tab, false));
    tab.addEventListener("keydown", (e) => {
      const i = tabs.indexOf(tab);
      const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[e.key];
      if (next === undefined) return;
      e.preventDefault();
      selectTab(tabs[(next + tabs.length) % tabs.length], true);
    });
  }

  function showAuth(which) {
    $("profile").hidden = true;
    $("who").hidden = true;
    $("auth").hidden = false;
    closeEditor();
    selectTab(which === "register" ? tabs[1] : tabs[0], false);
  }

  async function logIn(email, password) {
    const doc = await api("POST", "auth/login", { json: { email, password } });
    session.set(doc.data.access_token);
    showProfile(doc.data.user);
  }

  $("login").addEventListener("submit", (e) => {
    e.preventDefault();
    const f = e.currentTarget;
    clearError($("login-error"));
    busy(f.querySelector("button[type=submit]"), async () => {
      try {
        await logIn(f.email.value, f.password.value);
        f.reset();
      } catch (err) {
        showError($("login-error"), err);
      }
    });
  });

  const registerFields = {
    first_name: "reg-first", last_name: "reg-last", email: "reg-email",
    phone_number: "reg-phone", password: "reg-password",
  };

  function markFields(fields) {
    let first = null;
    for (const [name, id] of Object.entries(registerFields)) {
      const input = $(id);
      const note = $(id + "-error");
      const problem = fields.find((f) => f.field === name);
      input.setAttribute("aria-invalid", String(Boolean(problem)));
      note.textContent = problem ? capitalize(problem.message) + "." : "";
      note.hidden = !problem;
      const described = [input.dataset.hint, problem ? note.id : ""].filter(Boolean).join(" ");
      if (described) input.setAttribute("aria-describedby", described);
      if (problem && !first) first = input;
    }
    if (first) first.focus();
  }

  const capitalize = (s) => s.charAt(0).toUpperCase() + s.slice(1);

  $("register").addEventListener("submit", (e) => {
    e.preventDefault();
    const f = e.currentTarget;
    clearError($("register-error"));
    const body = {};
    for (const [name, id] of Object.entries(registerFields)) body[name] = $(id).value;
    busy(f.querySelector("button[type=submit]"), async () => {
      try {
        await api("POST", "auth/register", { json: body });
        markFields([]);
        await logIn(body.email, body.password);
        f.reset();
        say("Welcome! Your account is ready; choose a picture.");
      } catch (err) {
        markFields(err.fields || []);
        showError($("register-error"), err);
      }
    });
  });

  for (const id of Object.values(registerFields)) {
    const input = $(id);
    input.dataset.hint = input.getAttribute("aria-describedby") || "";
  }

  // ---- Signed in: the current picture and its sizes ----------------------

  const AVATAR_SIZES = "(max-width: 760px) 176px, 240px";
  const TYPE_NAMES = { "image/webp": "WebP", "image/jpeg": "JPEG", "image/png": "PNG" };

  function showProfile(user) {
    $("auth").hidden = true;
    $("profile").hidden = false;
    $("who").hidden = false;
    clearError($("profile-error"));
    renderUser(user);
    $("main").focus({ preventScroll: true });
  }

  function renderUser(user) {
    const name = `${user.first_name} ${user.last_name}`;
    $("who-name").textContent = name;
    $("me-name").textContent = name;
    $("me-email").textContent = user.email;
    // A user without a picture has no image member: the stable URL then
    // answers the default picture.
    const image = user.image || { url: `users/${encodeURIComponent(user.id)}/image`, variants: [], placeholder: null, color: null };
    const has = image.variants.length > 0;
    renderVariants(image.variants);
    renderAvatar(image, name);
    $("sizes").hidden = !has;
    $("delete").hidden = !has;
    $("confirm").hidden = true;
    $("choose-label").textContent = has ? "Replace picture…" : "Choose a picture…";
  }

  /** renderAvatar shows the picture as a <picture> that offers the WebP
   *  sizes first, over its colour and BlurHash while it loads; a user
   *  without one sees the default picture of the stable URL. */
  function renderAvatar(image, name) {
    const box = $("avatar");
    box.style.backgroundColor = image.color || "";
    drawPlaceholder($("avatar-placeholder"), image.placeholder);
    const picture = $("avatar-picture");
    picture.replaceChildren();
    const img = el("img", { alt: `Profile picture of ${name}`, width: 240, height: 240, decoding: "async" });
    img.id = "avatar-img";
    img.addEventListener("load", () => {
      img.classList.add("loaded");
      markChosen(img.currentSrc);
    });
    img.addEventListener("error", () => showError($("profile-error"), new ApiError(0, { detail: "The picture could not be loaded." })));
    const webp = image.variants.filter((v) => v.type === "image/webp");
    const other = image.variants.filter((v) => v.type !== "image/webp");
    if (webp.length > 0) {
      // WebP at every size it is stored at (--webp-max-size), and beyond
      // them the larger JPEG or PNG, so that a large box stays sharp.
      const beyond = other.filter((v) => v.size > largest(webp).size);
      picture.append(el("source", { type: "image/webp", sizes: AVATAR_SIZES, srcset: srcset([...webp, ...beyond]) }));
    }
    picture.append(img);
    if (other.length > 0) {
      img.sizes = AVATAR_SIZES;
      img.srcset = srcset(other);
      img.src = largest(other).url;
    } else {
      img.srcset = `${image.url}?size=240 1x, ${image.url}?size=480 2x`;
      img.src = `${image.url}?size=240`;
    }
  }

  const srcset = (variants) => variants.map((v) => `${v.url} ${v.size}w`).join(", ");
  const largest = (variants) => variants.reduce((a, b) => (b.size > a.size ? b : a));

  /** renderVariants lists every stored size and format, each with its
   *  bytes once loaded (when the image's origin lets us read them). */
  function renderVariants(variants) {
    const sorted = [...variants].sort((a, b) => b.size - a.size || a.type.localeCompare(b.type));
    $("variants").replaceChildren(...sorted.map((v) => {
      const kind = TYPE_NAMES[v.type] || v.type;
      const meta = el("span", { className: "meta" }, kind);
      const thumb = el("img", { src: v.url, alt: "", width: 64, height: 64, decoding: "async" });
      thumb.addEventListener("load", () => {
        const bytes = transferredBytes(v.url);
        if (bytes) meta.textContent = `${kind} · ${formatBytes(bytes)}`;
      });
      const link = el("a", { href: v.url, target: "_blank", rel: "noopener" }, "Open");
      link.setAttribute("aria-label", `Open the ${v.size} pixel ${kind}`);
      const item = el("li", {}, thumb, el("span", { className: "kind" }, `${v.size} × ${v.size}`), meta, link);
      item.dataset.url = v.url;
      return item;
    }));
  }

  /** markChosen shows which variant the browser picked for the avatar. */
  function markChosen(url) {
    for (const item of $("variants").children) {
      const chosen = item.dataset.url === url;
      item.classList.toggle("chosen", chosen);
      item.querySelector(".badge")?.remove();
      if (chosen) item.append(el("span", { className: "badge" }, "Shown above"));
    }
  }

  function transferredBytes(url) {
    const entries = performance.getEntriesByName(new URL(url, location.href).href);
    const sizes = entries.map((e) => e.encodedBodySize).filter((n) => n > 0);
    return sizes.length ? sizes[sizes.length - 1] : 0;
  }

  const formatBytes = (n) => (n < 1000 ? `${n} B` : `${(n / 1000).toFixed(n < 10000 ? 1 : 0)} kB`);

  // ---- BlurHash placeholder ----------------------------------------------

  const B83 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~";

  function base83(s) {
    let v = 0;
    for (const c of s) {
      const d = B83.indexOf(c);
      if (d < 0) throw new Error("not a BlurHash");
      v = v * 83 + d;
    }
    return v;
  }

  const toLinear = (c) => (c / 255 <= 0.04045 ? c / 255 / 12.92 : Math.pow((c / 255 + 0.055) / 1.055, 2.4));
  const toSRGB = (v) => {
    v = Math.min(1, Math.max(0, v));
    return Math.round(255 * (v <= 0.0031308 ? v * 12.92 : 1.055 * Math.pow(v, 1 / 2.4) - 0.055));
  };
  const signedPow = (v, e) => Math.sign(v) * Math.pow(Math.abs(v), e);

  /** blurHashFactors returns the colour factors of a BlurHash string and
   *  their grid, or throws if it is not one. */
  function blurHashFactors(hash) {
    const flag = base83(hash[0]);
    const nx = (flag % 9) + 1, ny = Math.floor(flag / 9) + 1;
    if (hash.length !== 4 + 2 * nx * ny) throw new Error("not a BlurHash");
    const maxAC = (base83(hash[1]) + 1) / 166;
    const dc = base83(hash.slice(2, 6));
    const factors = [[toLinear(dc >> 16), toLinear((dc >> 8) & 255), toLinear(dc & 255)]];
    const ac = (q) => signedPow((q - 9) / 9, 2) * maxAC;
    for (let i = 1; i < nx * ny; i++) {
      const v = base83(hash.slice(4 + 2 * i, 6 + 2 * i));
      factors.push([ac(Math.floor(v / 361)), ac(Math.floor(v / 19) % 19), ac(v % 19)]);
    }
    return { nx, ny, factors };
  }

  function drawPlaceholder(canvas, hash) {
    const ctx = canvas.getContext("2d");
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    if (!hash) return;
    let f;
    try { f = blurHashFactors(hash); } catch { return; }
    const w = canvas.width, h = canvas.height;
    const pixels = ctx.createImageData(w, h);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const rgb = [0, 0, 0];
        for (let j = 0; j < f.ny; j++) {
          for (let i = 0; i < f.nx; i++) {
            const basis = Math.cos((Math.PI * x * i) / w) * Math.cos((Math.PI * y * j) / h);
            const c = f.factors[i + j * f.nx];
            for (let k = 0; k < 3; k++) rgb[k] += c[k] * basis;
          }
        }
        const o = 4 * (x + y * w);
        pixels.data.set([toSRGB(rgb[0]), toSRGB(rgb[1]), toSRGB(rgb[2]), 255], o);
      }
    }
    ctx.putImageData(pixels, 0, 0);
  }

  // ---- The crop editor ---------------------------------------------------
  //
  // The square is kept in pixels of the picture as the browser shows it:
  // upright, EXIF orientation applied, naturalWidth × naturalHeight, which
  // is what the upload's crop fields are in.

  const crop = { file: null, url: null, W: 0, H: 0, x: 0, y: 0, s: 0 };
  const source = $("source"), box = $("crop"), preview = $("preview");
  const PREVIEW = 72;

  const minSide = () => Math.min(64, crop.W, crop.H);
  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
  const scale = () => source.clientWidth / crop.W; // screen px per picture px

  function moveTo(x, y) {
    crop.x = clamp(x, 0, crop.W - crop.s);
    crop.y = clamp(y, 0, crop.H - crop.s);
  }

  /** resizeCentred changes the side, keeping the centre where it can. */
  function resizeCentred(s) {
    const cx = crop.x + crop.s / 2, cy = crop.y + crop.s / 2;
    crop.s = clamp(s, minSide(), Math.min(crop.W, crop.H));
    moveTo(cx - crop.s / 2, cy - crop.s / 2);
  }

  function reset() {
    crop.s = Math.min(crop.W, crop.H);
    moveTo((crop.W - crop.s) / 2, (crop.H - crop.s) / 2);
  }

  /** resizeCorner resizes from a corner handle dragged by (dx, dy)
   *  picture pixels, the opposite corner staying put. */
  function resizeCorner(d, dx, dy) {
    const { x0, y0, s0 } = d;
    const right = x0 + s0, bottom = y0 + s0;
    const grow = { se: (dx + dy) / 2, nw: -(dx + dy) / 2, ne: (dx - dy) / 2, sw: (dy - dx) / 2 }[d.corner];
    const room = {
      se: Math.min(crop.W - x0, crop.H - y0), nw: Math.min(right, bottom),
      ne: Math.min(crop.W - x0, bottom), sw: Math.min(right, crop.H - y0),
    }[d.corner];
    const s = clamp(s0 + grow, minSide(), room);
    crop.s = s;
    crop.x = d.corner === "nw" || d.corner === "sw" ? right - s : x0;
    crop.y = d.corner === "nw" || d.corner === "ne" ? bottom - s : y0;
  }

  function render() {
    const k = scale();
    Object.assign(box.style, {
      left: crop.x * k + "px", top: crop.y * k + "px",
      width: crop.s * k + "px", height: crop.s * k + "px",
    });
    const p = PREVIEW / crop.s;
    Object.assign(preview.style, {
      width: crop.W * p + "px", height: crop.H * p + "px",
      transform: `translate(${-crop.x * p}px, ${-crop.y * p}px)`,
    });
    const r = cropFields();
    $("crop-readout").textContent = `${r.crop_width} × ${r.crop_height} px at ${r.crop_x}, ${r.crop_y} of ${crop.W} × ${crop.H}`;
  }

  function announce() {
    const r = cropFields();
    $("crop-live").textContent = `Square of ${Math.round(r.crop_width)} pixels, ${Math.round(r.crop_x)} from the left, ${Math.round(r.crop_y)} from the top.`;
  }

  /** cropFields returns the upload's crop fields: the square, to 1/100
   *  pixel, never past the picture's edges. */
  function cropFields() {
    const x = round2(crop.x), y = round2(crop.y);
    const s = Math.floor(Math.min(crop.s, crop.W - x, crop.H - y) * 100) / 100;
    return { crop_x: x, crop_y: y, crop_width: s, crop_height: s };
  }
  const round2 = (v) => Math.round(v * 100) / 100;

  let drag = null;

  box.addEventListener("pointerdown", (e) => {
    if (e.button !== 0) return;
    e.preventDefault();
    box.focus({ preventScroll: true });
    box.setPointerCapture(e.pointerId);
    drag = { id: e.pointerId, corner: e.target.dataset.corner || "", cx: e.clientX, cy: e.clientY, x0: crop.x, y0: crop.y, s0: crop.s };
  });

  box.addEventListener("pointermove", (e) => {
    if (!drag || e.pointerId !== drag.id) return;
    const k = scale();
    const dx = (e.clientX - drag.cx) / k, dy = (e.clientY - drag.cy) / k;
    if (drag.corner) resizeCorner(drag, dx, dy);
    else moveTo(drag.x0 + dx, drag.y0 + dy);
    render();
  });

  const endDrag = (e) => {
    if (!drag || e.pointerId !== drag.id) return;
    drag = null;
    announce();
  };
  box.addEventListener("pointerup", endDrag);
  box.addEventListener("pointercancel", endDrag);

  box.addEventListener("keydown", (e) => {
    const unit = Math.max(1, Math.round(Math.min(crop.W, crop.H) / 100));
    const step = e.shiftKey ? 10 * unit : unit;
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (moves[e.key]) moveTo(crop.x + moves[e.key][0], crop.y + moves[e.key][1]);
    else if (e.key === "+" || e.key === "=") resizeCentred(crop.s + 2 * unit);
    else if (e.key === "-" || e.key === "_") resizeCentred(crop.s - 2 * unit);
    else if (e.key === "Home") reset();
    else return;
    e.preventDefault();
    render();
    announce();
  });

  new ResizeObserver(() => { if (crop.W) render(); }).observe(source);

  function closeEditor() {
    $("editor").hidden = true;
    if (crop.url) URL.revokeObjectURL(crop.url);
    Object.assign(crop, { file: null, url: null, W: 0, H: 0 });
    source.removeAttribute("src");
    preview.removeAttribute("src");
    $("file").value = "";
  }

  async function openEditor(file) {
    closeEditor();
    clearError($("profile-error"));
    say("");
    crop.file = file;
    crop.url = URL.createObjectURL(file);
    source.src = crop.url;
    try {
      await source.decode();
    } catch {
      // The browser cannot show it (HEIC outside Safari, say): the server
      // decides, and its answer says what it accepts.
      say("Your browser cannot show this file, so it is sent without cropping.");
      await upload(false);
      return;
    }
    preview.src = crop.url;
    crop.W = source.naturalWidth;
    crop.H = source.naturalHeight;
    reset();
    $("editor").hidden = false;
    render();
    announce();
    box.focus({ preventScroll: true });
    const still = matchMedia("(prefers-reduced-motion: reduce)").matches;
    $("editor").scrollIntoView({ block: "nearest", behavior: still ? "auto" : "smooth" });
  }

  $("file").addEventListener("change", (e) => {
    const file = e.target.files[0];
    if (file) openEditor(file);
  });
  $("cancel").addEventListener("click", () => {
    closeEditor();
    $("file").focus();
  });

  /** upload sends the file as it was chosen, with the crop square unless
   *  cropped is false, then shows the picture the server made of it. */
  async function upload(cropped = true) {
    const form = new FormData();
    if (cropped) {
      for (const [name, value] of Object.entries(cropFields())) form.append(name, String(value));
    }
    form.append("file", crop.file);
    clearError($("profile-error"));
    say("Uploading…");
    try {
      await api("PATCH", "users/image/upload", { form });
      const me = await api("GET", "users/me");
      closeEditor();
      renderUser(me.data);
      say("Your picture is updated.");
      $("file").focus();
    } catch (err) {
      say("");
      if (!cropped) closeEditor();
      failed($("profile-error"), err);
    }
  }

  $("upload").addEventListener("click", (e) => busy(e.currentTarget, () => upload(true)));

  // ---- Delete and log out ------------------------------------------------

  $("delete").addEventListener("click", () => {
    $("confirm").hidden = false;
    $("confirm-keep").focus();
  });
  const keep = () => {
    $("confirm").hidden = true;
    $("delete").focus();
  };
  $("confirm-keep").addEventListener("click", keep);
  $("confirm").addEventListener("keydown", (e) => {
    if (e.key === "Escape") keep();
  });
  $("confirm-delete").addEventListener("click", (e) => busy(e.currentTarget, async () => {
    clearError($("profile-error"));
    try {
      await api("DELETE", "users/image");
      const me = await api("GET", "users/me");
      renderUser(me.data);
      say("Your picture is deleted; others see your initials.");
      $("file").focus();
    } catch (err) {
      failed($("profile-error"), err);
    }
  }));

  $("logout").addEventListener("click", (e) => busy(e.currentTarget, async () => {
    try {
      await api("POST", "auth/logout");
    } catch {
      // Signed out here whatever the server said; an expired token is
      // no loss.
    }
    session.clear();
    say("");
    showAuth("login");
    $("login-error").hidden = true;
    $("login-email").focus();
  }));

  // ---- Start -------------------------------------------------------------

  async function start() {
    if (!session.token()) {
      showAuth("login");
      return;
    }
    try {
      const me = await api("GET", "users/me");
      showProfile(me.data);
    } catch (err) {
      session.clear();
      showAuth("login");
      if (err.status !== 401) showError($("login-error"), err);
    }
  }

  start();
})();
