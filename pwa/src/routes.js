/** Every screen of the app by path, and the tabs at the bottom; more routes (meetings) slot in here. */

import { Approvals } from './views/Approvals.jsx';
import { GrievanceDetail, GrievanceForm, Grievances } from './views/Grievances.jsx';
import { Home } from './views/Home.jsx';
import { Login } from './views/Login.jsx';
import { MemberForm } from './views/MemberForm.jsx';
import { Members } from './views/Members.jsx';
import { MeetingDetail, Meetings } from './views/meetings.js';
import { Settings } from './views/Settings.jsx';
import { Sync } from './views/Sync.jsx';

/**
 * Order matters: the first pattern that matches wins ("/members/new" before "/members/:id").
 * `public` screens need no login; `roles` limits a screen to one of the server's role lists
 * (roles.js): approvals are for its reviewers.
 * @type {{path: string, view: any, public?: boolean, roles?: keyof import('./roles.js').RoleLists}[]}
 */
export const routes = [
  { path: '/login', view: Login, public: true },
  { path: '/', view: Home },
  { path: '/members', view: Members },
  { path: '/members/new', view: MemberForm },
  { path: '/members/:id', view: MemberForm },
  { path: '/grievances', view: Grievances },
  { path: '/grievances/new', view: GrievanceForm },
  { path: '/grievances/:id', view: GrievanceDetail },
  { path: '/approvals', view: Approvals, roles: 'reviewers' },
  { path: '/meetings', view: Meetings },
  { path: '/meetings/:id', view: MeetingDetail },
  { path: '/sync', view: Sync },
  { path: '/settings', view: Settings },
];

/**
 * The bottom tabs: catalogue key under "nav.", path, and the role list that sees it. At most
 * six fit a 360 px screen in Hindi; settings is reached from the top bar.
 * @type {{key: string, path: string, roles?: keyof import('./roles.js').RoleLists}[]}
 */
export const tabs = [
  { key: 'home', path: '/' },
  { key: 'members', path: '/members' },
  { key: 'grievances', path: '/grievances' },
  { key: 'approvals', path: '/approvals', roles: 'reviewers' },
  { key: 'meetings', path: '/meetings' },
  { key: 'sync', path: '/sync' },
];
