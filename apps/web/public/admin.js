// Progressive enhancement for the admin pages; every page works without it.
'use strict';

(function () {
  const localFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;

  /** UTC times get the reader's local time next to them. */
  function showLocalTimes(root) {
    for (const time of root.querySelectorAll('time[data-local]:not([data-local-done])')) {
      const date = new Date(time.getAttribute('datetime'));
      if (Number.isNaN(date.getTime())) continue;
      const text = `${localFormat.format(date)} your time`;
      if (time.getAttribute('data-local') === 'title') {
        time.title = text;
      } else {
        const local = document.createElement('span');
        local.className = 'local-time';
        local.textContent = ` (${text})`;
        time.after(local);
      }
      time.setAttribute('data-local-done', '');
    }
  }

  /** The schedule field is in UTC; say what that is where the admin sits. */
  function explainScheduleField() {
    for (const hint of document.querySelectorAll('[data-local-of]')) {
      const input = document.getElementById(hint.getAttribute('data-local-of'));
      if (!input) continue;
      const update = () => {
        const date = input.value ? new Date(`${input.value}:00Z`) : null;
        hint.textContent = date && !Number.isNaN(date.getTime())
          ? `That is ${localFormat.format(date)} your time (${zone}).`
          : `Times are UTC. Your time zone is ${zone}.`;
      };
      input.addEventListener('input', update);
      update();
    }
  }

  function confirmDangerousForms() {
    for (const form of document.querySelectorAll('form[data-confirm]')) {
      form.addEventListener('submit', (event) => {
        if (!window.confirm(form.getAttribute('data-confirm'))) event.preventDefault();
      });
    }
  }

  function formatEta(seconds) {
    if (seconds === null || !Number.isFinite(seconds)) return '—';
    if (seconds < 60) return `${Math.ceil(seconds)} s`;
    if (seconds < 3600) return `${Math.ceil(seconds / 60)} min`;
    return `${Math.floor(seconds / 3600)} h ${String(Math.ceil((seconds % 3600) / 60)).padStart(2, '0')} min`;
  }

  /** The campaign page follows its campaign by polling the progress JSON. */
  function followProgress() {
    const section = document.getElementById('progress');
    if (!section) return;
    const url = section.getAttribute('data-progress-url');
    const samples = [];
    const field = (name) => document.querySelector(`[data-field="${name}"]`);
    const finished = (status) => status === 'sent' || status === 'cancelled';
    if (finished(section.getAttribute('data-status'))) return;

    async function poll() {
      let progress;
      try {
        const response = await fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
        if (!response.ok) throw new Error(String(response.status));
        progress = await response.json();
      } catch {
        setTimeout(poll, 5000);
        return;
      }
      const at = new Date(progress.at).getTime();
      samples.push({ at, done: progress.done });
      while (samples.length > 2 && at - samples[0].at > 20000) samples.shift();
      // The current rate: between the oldest and newest poll of the last twenty seconds.
      const first = samples[0];
      const perSecond = samples.length > 1 && at > first.at ? (progress.done - first.done) / ((at - first.at) / 1000) : null;
      const left = progress.counts.queued + progress.counts.sending;

      field('status').textContent = progress.status;
      field('status').className = `status status-${progress.status}`;
      const reason = field('statusReason');
      reason.textContent = progress.statusReason || '';
      reason.hidden = !progress.statusReason;
      field('bar').style.width = `${progress.percent}%`;
      section.querySelector('[role=progressbar]').setAttribute('aria-valuenow', String(progress.percent));
      field('percent').textContent = `${progress.percent}%`;
      field('done').textContent = String(progress.done);
      field('total').textContent = String(progress.total);
      const rate = progress.status === 'sending' && perSecond !== null ? perSecond * 60 : progress.ratePerMinute;
      field('rateLine').hidden = progress.status !== 'sending';
      field('rate').textContent = rate !== null && rate !== undefined ? `${Math.round(rate)} per minute` : '—';
      const eta = progress.status === 'sending' && left > 0 ? (perSecond ? left / perSecond : progress.etaSeconds) : null;
      field('eta').textContent = formatEta(eta);
      for (const [status, count] of Object.entries(progress.counts)) {
        const cell = document.querySelector(`[data-count="${status}"]`);
        if (cell) cell.textContent = String(count);
      }
      for (const [kind, count] of Object.entries(progress.events)) {
        const cell = document.querySelector(`[data-event="${kind}"]`);
        if (cell) cell.textContent = String(count);
      }
      for (const form of document.querySelectorAll('#actions form[data-action]')) {
        form.hidden = !progress.actions.includes(form.getAttribute('data-action'));
      }
      section.setAttribute('data-status', progress.status);
      if (!finished(progress.status)) setTimeout(poll, 2000);
    }
    setTimeout(poll, 1000);
  }

  /**
   * The report page follows its campaign's events while it says it is live: it reads itself again
   * every ten seconds (the server draws the chart) and swaps in the regions that changed. A hidden
   * tab waits until it is shown again.
   */
  function followReport() {
    if (!document.querySelector('main[data-live-report]')) return;
    async function refresh() {
      if (document.hidden) {
        document.addEventListener('visibilitychange', () => setTimeout(refresh, 0), { once: true });
        return;
      }
      let page;
      try {
        const response = await fetch(window.location.href, { headers: { Accept: 'text/html' }, credentials: 'same-origin' });
        if (!response.ok) throw new Error(String(response.status));
        page = new window.DOMParser().parseFromString(await response.text(), 'text/html');
      } catch {
        setTimeout(refresh, 30000);
        return;
      }
      for (const fresh of page.querySelectorAll('[data-live-region][id]')) {
        const current = document.getElementById(fresh.id);
        if (!current || current.innerHTML === fresh.innerHTML) continue;
        // A details element the reader opened stays open.
        if (current.querySelector('details[open]')) fresh.querySelector('details')?.setAttribute('open', '');
        current.replaceWith(fresh);
        showLocalTimes(fresh);
      }
      if (page.querySelector('main[data-live-report]')) setTimeout(refresh, 10000);
    }
    setTimeout(refresh, 10000);
  }

  /** The compose page's preview follows the form, rendered by the server with the worker's code. */
  function livePreview() {
    const form = document.getElementById('compose-form');
    const frame = document.querySelector('iframe[data-preview="html"]');
    if (!form || !frame) return;
    let timer;
    let sequence = 0;
    async function refresh() {
      const data = new URLSearchParams();
      for (const name of ['_csrf', 'subject', 'preheader', 'body', 'format', 'text', 'previewEmail']) {
        const input = form.elements.namedItem(name) || document.getElementById(name);
        data.set(name, input ? input.value : '');
      }
      if (!data.get('subject') && !data.get('body')) return;
      const mine = ++sequence;
      const response = await fetch('/admin/preview', { method: 'POST', body: data, credentials: 'same-origin', headers: { Accept: 'application/json' } });
      if (!response.ok || mine !== sequence) return;
      const preview = await response.json();
      frame.srcdoc = preview.html;
      document.querySelector('[data-preview="subject"]').textContent = preview.subject;
      document.querySelector('[data-preview="text"]').textContent = preview.text;
      const who = preview.recipient;
      document.querySelector('[data-preview="recipient"]').textContent =
        (preview.unknownRecipient ? 'No subscriber has that address; showing a sample reader: ' : 'As ') + `${who.name || ''} <${who.email}>`;
    }
    const schedule = () => {
      clearTimeout(timer);
      timer = setTimeout(() => refresh().catch(() => undefined), 400);
    };
    form.addEventListener('input', schedule);
    document.getElementById('previewEmail')?.addEventListener('input', schedule);
    refresh().catch(() => undefined);
  }

  showLocalTimes(document);
  explainScheduleField();
  confirmDangerousForms();
  followProgress();
  followReport();
  livePreview();
})();
