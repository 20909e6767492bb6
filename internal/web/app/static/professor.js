// The professor's screens (to come).
import { html, Page } from './ui.js';

function Home() {
  return html`<${Page} title="Welcome"><p>Signed in.</p><//>`;
}

export const nav = [];
export const routes = { '/': Home };
