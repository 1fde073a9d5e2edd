/** The screens' hooks on the phone's data: each reads through data/index.js or sync/overlay.js
 * and draws again whenever local data changes here, in another tab or in the worker. */

import { useEffect, useState } from 'preact/hooks';

import { onChange } from '../db/index.js';
import { getDb } from '../runtime.js';
import { getShown, listShown } from '../sync/overlay.js';
import { myBooths } from '../units.js';
import {
  alertsDeclinedAt,
  readRoleLists,
  readSession,
  readUnits,
  rejectedChange,
  syncFigures,
  syncLists,
} from './index.js';

/**
 * The result of `query(db)`, read again whenever local data changes anywhere.
 * @template T
 * @param {(db: import('../db/index.js').LocalDb) => Promise<T>} query
 * @param {any[]} [deps]
 * @returns {T|undefined}  undefined until the first answer
 */
function useLive(query, deps = []) {
  const [value, setValue] = useState(/** @type {T|undefined} */ (undefined));
  useEffect(() => {
    let alive = true;
    let again = false;
    let reading = false;
    const read = async () => {
      if (reading) {
        again = true;
        return;
      }
      reading = true;
      try {
        do {
          again = false;
          const result = await query(getDb());
          if (alive) setValue(() => result);
        } while (again && alive);
      } finally {
        reading = false;
      }
    };
    read();
    const off = onChange(read);
    return () => {
      alive = false;
      off();
    };
  }, deps);
  return value;
}

/** The logged-in person's session, or null. */
export const useSession = () => useLive(readSession);

/** The server's role lists from its last /api/me answer, or null (see roles.js). */
export const useRoleLists = () => useLive(readRoleLists);

/** The unit tree (a block's booths), or null when not held. */
export const useUnits = () => useLive(readUnits);

/** Waiting, needing-attention and last-synced figures (data/index.js: syncCounts). */
export const useSyncFigures = () => useLive(syncFigures);

/** The sync screen's lists: waiting changes, rejected ones, open conflicts. */
export const useSyncLists = () => useLive(syncLists);

/** When meeting alerts were last declined, as `{at}` (at undefined when never). */
export const useAlertsDeclined = () => useLive(async (db) => ({ at: await alertsDeclinedAt(db) }));

/**
 * Every record of an entity as the phone shows it.
 * @param {string} entity
 */
export function useRecords(entity) {
  return useLive((db) => listShown(db, entity), [entity]);
}

/**
 * Every member as the phone shows them, with the booths this person's screens cover
 * (and those booths by id); null until both are read.
 * @param {{user: {role: string, unit: import('../units.js').Unit}}} session
 */
export function useRoster(session) {
  const members = useRecords('member');
  const tree = useUnits();
  if (!members || tree === undefined) return null;
  const booths = myBooths(session, tree);
  return { members, booths, boothById: new Map(booths.map((b) => [b.id, b])) };
}

/**
 * One record as the phone shows it; null when unknown or deleted, or when `id` is empty.
 * @param {string} entity
 * @param {string|null|undefined} id
 */
export function useRecord(entity, id) {
  return useLive(async (db) => (id ? getShown(db, entity, id) : null), [entity, id]);
}

/**
 * A change in needs attention being fixed, by its key; null when `key` is empty or it is gone.
 * @param {number|null} key
 */
export function useRejectedChange(key) {
  return useLive(async (db) => (key ? rejectedChange(db, key) : null), [key]);
}
