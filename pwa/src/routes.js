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

/** Roles that approve members (a block president, or a role above over that block). */
export const APPROVERS = ['block_president', 'district_president', 'admin'];

/**
 * Order matters: the first pattern that matches wins ("/members/new" before "/members/:id").
 * `public` screens need no login; `roles` limits a screen to those roles.
 * @type {{path: string, view: any, public?: boolean, roles?: string[]}[]}
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
  { path: '/approvals', view: Approvals, roles: APPROVERS },
  { path: '/meetings', view: Meetings },
  { path: '/meetings/:id', view: MeetingDetail },
  { path: '/sync', view: Sync },
  { path: '/settings', view: Settings },
];

/**
 * The bottom tabs: catalogue key under "nav.", path, and the roles that see it. At most six
 * fit a 360 px screen in Hindi; settings is reached from the top bar.
 * @type {{key: string, path: string, roles?: string[]}[]}
 */
export const tabs = [
  { key: 'home', path: '/' },
  { key: 'members', path: '/members' },
  { key: 'grievances', path: '/grievances' },
  { key: 'approvals', path: '/approvals', roles: APPROVERS },
  { key: 'meetings', path: '/meetings' },
  { key: 'sync', path: '/sync' },
];
