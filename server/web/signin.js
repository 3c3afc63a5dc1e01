// The sign-in page: a plain form posted to /signin (it works without this
// script); this adds the labels in the chosen language, the error of the
// last attempt and where to go afterwards.
import {t, set_lang, save_lang, cookie_lang, browser_lang} from './i18n.js';

const params = new URLSearchParams(location.search);

function text(id, key, args) {
  const el = document.getElementById(id);
  if (el) el.textContent = t(key, args);
}

function draw() {
  text('brand', 'app_name');
  text('lang-label', 'language');
  text('title', 'signin_title');
  text('intro', 'signin_intro');
  text('username-label', 'username');
  text('password-label', 'password');
  text('submit', 'signin_button');
  document.title = `${t('signin_title')} — ${t('app_name')}`;
  const error = params.get('error');
  const seconds = Number.parseInt(params.get('seconds') || '', 10);
  if (error === 'failed') text('error', 'signin_failed');
  else if (error === 'wait') text('error', 'signin_wait', {seconds: Number.isFinite(seconds) ? seconds : 30});
}

// Only a local path is a place to go back to.
const next = params.get('next') || '';
const next_input = document.getElementById('next');
if (next.startsWith('/') && !next.startsWith('//')) next_input.value = next;
else next_input.disabled = true;

set_lang(cookie_lang() || browser_lang());
const lang = document.getElementById('lang');
lang.value = document.documentElement.lang === 'zh-CN' ? 'zh' : 'en';
lang.addEventListener('change', () => {
  save_lang(lang.value);
  draw();
});
draw();
