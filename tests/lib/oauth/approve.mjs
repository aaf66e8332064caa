// approve.mjs - plays the user in the provider's pages: follows the
// redirects from URL, keeps the cookies, and submits each form it finds
// (the device code's confirmation, sign-in as LOGIN, consent) until a
// page has no form or a redirect leaves for the loopback client, which
// it then visits (that is the browser delivering the code).
//
//   node approve.mjs URL LOGIN
//
// NODE_EXTRA_CA_CERTS must name the test CA.  Exits 0 once a page
// without a form or the loopback redirect was reached, 1 otherwise;
// prints each step (method and path) on stderr.
const [start, login] = process.argv.slice(2);
const jar = new Map();

function cookies() {
  return [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
}

function keep(res) {
  for (const c of res.headers.getSetCookie()) {
    const [kv] = c.split(';');
    const i = kv.indexOf('=');
    jar.set(kv.slice(0, i), kv.slice(i + 1));
  }
}

function firstForm(html) {
  const m = html.match(/<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/);
  if (m === null) return null;
  const fields = new URLSearchParams();
  for (const input of m[2].matchAll(/<input([^>]*)>/g)) {
    const name = input[1].match(/name="([^"]*)"/);
    const value = input[1].match(/value="([^"]*)"/);
    if (name === null) continue;
    if (name[1] === 'login') fields.set('login', login);
    else if (name[1] === 'password') fields.set('password', 'any');
    else fields.set(name[1], value ? value[1] : '');
  }
  return { action: m[1].replaceAll('&amp;', '&'), fields };
}

let url = new URL(start);
let method = 'GET';
let body;
for (let step = 0; step < 20; step += 1) {
  if (url.hostname === '127.0.0.1' && url.protocol === 'http:') {
    const res = await fetch(url);
    console.error(`loopback ${res.status}`);
    process.exit(res.ok ? 0 : 1);
  }
  console.error(`${method} ${url.pathname}`);
  const res = await fetch(url, {
    method, body, redirect: 'manual',
    headers: { cookie: cookies(),
      ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
  });
  keep(res);
  if (res.status >= 300 && res.status < 400) {
    url = new URL(res.headers.get('location'), url);
    method = 'GET';
    body = undefined;
    continue;
  }
  const html = await res.text();
  const form = firstForm(html);
  if (form === null) process.exit(res.ok ? 0 : 1);
  url = new URL(form.action, url);
  method = 'POST';
  body = form.fields.toString();
}
process.exit(1);
