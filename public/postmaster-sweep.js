// Admin → Postmaster (views/postmaster/sweep-run.ejs): follows a running sweep through its JSON status
// endpoint (public/progress-poll.js) and updates the progress bar; reloads once the sweep has finished
// so the server-rendered counts, table and trend appear. Without JavaScript the page has a reload link.
document.addEventListener('DOMContentLoaded', () => {
  const bar = document.getElementById('sweep-progress');
  if (!bar) return;
  window.pollProgress(bar.dataset.statusUrl, (s) => {
    if (!s.running) {
      window.location.reload();
      return true;
    }
    if (s.progress) {
      bar.value = s.progress.percent;
      bar.textContent = `${s.progress.percent}%`;
      window.setProgressField('done', String(s.progress.done));
      window.setProgressField('total', String(s.progress.total));
    }
    return false;
  });
});
