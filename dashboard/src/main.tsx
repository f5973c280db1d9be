import { render } from 'preact';
import { App } from './app.tsx';
import { interceptLinks } from './route.ts';
import { applyTheme, currentTheme } from './theme.ts';
import './style.css';

applyTheme(currentTheme());
interceptLinks();
render(<App />, document.getElementById('app')!);
