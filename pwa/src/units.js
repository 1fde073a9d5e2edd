/** The booths a person works on: the volunteer's own, or every booth of a block from the unit tree. */

import { getLang } from './i18n/index.js';

/**
 * @typedef {{id: number, type: string, code?: string, name?: string, name_en?: string, name_hi?: string,
 *            number?: number, children?: Unit[]}} Unit
 */

/**
 * Every booth under a unit, in tree order.
 * @param {Unit|null|undefined} tree
 * @returns {Unit[]}
 */
function boothsOf(tree) {
  if (!tree) return [];
  if (tree.type === 'booth') return [tree];
  return (tree.children || []).flatMap(boothsOf);
}

/** A unit's name in the person's language. */
export function unitName(/** @type {Unit|null|undefined} */ unit) {
  if (!unit) return '';
  const local = getLang() === 'en' ? unit.name_en : unit.name_hi;
  return local || unit.name || unit.name_en || unit.code || String(unit.id);
}

/**
 * The booths this person's screens cover: a volunteer's booth, or a block's booths.
 * @param {{user: {role: string, unit: Unit}}} session
 * @param {Unit|null|undefined} tree  the unit tree from /api/units/tree, when held
 * @returns {Unit[]}
 */
export function myBooths(session, tree) {
  const unit = session.user.unit;
  if (unit.type === 'booth') return [unit];
  return boothsOf(tree);
}
