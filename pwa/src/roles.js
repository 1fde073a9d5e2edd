/** Who sees which screen: the server's role lists (GET /api/me, `role_lists`), never a copy of them. */

/**
 * The lists as the server names them: reviewers (who approve members), leaders, and the
 * roles that see personal values unmasked.
 * @typedef {{reviewers?: string[], leaders?: string[], full_personal_data?: string[]}} RoleLists
 */

/**
 * Whether a person of `role` may open a screen or tab. `item.roles` names one of the
 * server's lists; without the lists (no /api/me answer held yet, or one cached from a server
 * before role lists), screens limited to a list stay hidden until the next /api/me brings
 * them: it comes after the next sync, and they would only meet refusals meanwhile.
 * @param {{roles?: keyof RoleLists}} item  a route or a tab
 * @param {string} role
 * @param {RoleLists|null|undefined} lists
 */
export function mayOpen(item, role, lists) {
  if (!item.roles) return true;
  const list = lists ? lists[item.roles] : null;
  return Array.isArray(list) && list.includes(role);
}
