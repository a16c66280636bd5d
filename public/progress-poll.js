// Shared by the pages that follow a background job (consent import, postmaster sweep): polls the
// job's JSON status endpoint, hands each answer to the page's `update`, and backs off (1 s doubling
// to 8 s, capped at 10 s) while the endpoint fails. `update` returns true once the job has finished.
window.pollProgress = (url, update) => {
  let failures = 0;
  const poll = async () => {
    try {
      const res = await fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' });
      if (!res.ok) throw new Error(`status ${res.status}`);
      failures = 0;
      if (update(await res.json())) return;
    } catch {
      failures += 1;
    }
    setTimeout(poll, Math.min(10_000, 1000 * 2 ** Math.min(failures, 3)));
  };
  setTimeout(poll, 1000);
};

/** Sets the text of every element marked data-field="<field>". */
window.setProgressField = (field, value) => {
  for (const el of document.querySelectorAll(`[data-field="${field}"]`)) el.textContent = value;
};
