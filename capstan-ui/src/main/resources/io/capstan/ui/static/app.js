// Capstan UI: the few behaviours htmx attributes do not cover. No build step; served as is.
window.capstan = {
  csrf() { const m = document.querySelector('meta[name="csrf-token"]'); return m ? m.content : ''; },
  // After a run action (retry, terminate): say what happened, then show the run's new state.
  afterAction(event) {
    const out = document.getElementById('action-result');
    const xhr = event.detail.xhr;
    if (event.detail.successful) { if (out) out.textContent = ' Done.'; setTimeout(() => location.reload(), 500); return; }
    let detail = xhr.responseText;
    try { detail = JSON.parse(xhr.responseText).detail || detail; } catch (e) { /* not JSON */ }
    if (out) out.textContent = ' ' + xhr.status + ': ' + detail;
  }
};

// Predict console: fill in a request from the model's metadata, send it as OIP JSON, show the answer.
document.addEventListener('DOMContentLoaded', () => {
  const form = document.getElementById('predict');
  if (!form) return;
  const url = form.dataset.modelUrl;
  const body = document.getElementById('predict-body');
  const result = document.getElementById('predict-result');
  fetch(url, { credentials: 'same-origin' }).then(r => r.ok ? r.json() : null).then(meta => {
    if (!meta || !Array.isArray(meta.inputs) || body.dataset.edited) return;
    const inputs = meta.inputs.map(i => {
      const shape = (i.shape || [1]).map(d => d < 0 ? 1 : d);
      const n = shape.reduce((a, b) => a * b, 1);
      return { name: i.name, shape, datatype: i.datatype || 'FP32', data: new Array(n).fill(0) };
    });
    body.value = JSON.stringify({ inputs }, null, 2);
  }).catch(() => {});
  body.addEventListener('input', () => { body.dataset.edited = '1'; });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    result.textContent = 'Sending…';
    try {
      const r = await fetch(url + '/infer', { method: 'POST', credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'X-Capstan-CSRF': capstan.csrf() }, body: body.value });
      const text = await r.text();
      let shown = text;
      try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch (err) { /* not JSON */ }
      result.textContent = r.status + ' ' + r.statusText + '\n' + shown;
    } catch (err) { result.textContent = 'The request failed: ' + err; }
  });
});

// Deploy buttons on a model's page: POST the registry's :deploy as JSON with the CSRF header, say what it answered.
document.addEventListener('click', async (e) => {
  const button = e.target.closest('button[data-deploy-url]');
  if (!button) return;
  const out = document.getElementById('deploy-result');
  out.textContent = 'Deploying…';
  try {
    const r = await fetch(button.dataset.deployUrl, { method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-Capstan-CSRF': capstan.csrf() }, body: button.dataset.deployBody });
    const text = await r.text();
    let answer = {};
    try { answer = JSON.parse(text); } catch (err) { /* not JSON */ }
    if (r.ok) {
      out.textContent = 'Deployed: InferenceService ' + (answer.name || '') + '.';
      setTimeout(() => location.reload(), 800);
    } else {
      out.textContent = r.status + ': ' + (answer.message || text);
    }
  } catch (err) { out.textContent = 'The request failed: ' + err; }
});
