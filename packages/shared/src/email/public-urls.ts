/** The public page of one issue (a campaign): its "view in browser" link and archive entry. */
export function issueUrl(publicUrl: string, campaignId: string): string {
  return `${publicUrl}/archive/${campaignId}`;
}

/** A subscriber's one-click unsubscribe page, in the footer and the List-Unsubscribe header. */
export function unsubscribeUrl(publicUrl: string, unsubscribeToken: string): string {
  return `${publicUrl}/unsubscribe/${unsubscribeToken}`;
}

/**
 * A campaign email's unsubscribe link and List-Unsubscribe target: it unsubscribes the person from
 * the lists that campaign went to (its page also offers "unsubscribe from everything").
 */
export function campaignUnsubscribeUrl(publicUrl: string, unsubscribeToken: string, campaignId: string): string {
  return `${publicUrl}/unsubscribe/${unsubscribeToken}/c/${campaignId}`;
}

/**
 * A list's own email (its welcome email): unsubscribes the person from that list alone, as a
 * campaign's link does from the campaign's lists.
 */
export function listUnsubscribeUrl(publicUrl: string, unsubscribeToken: string, listId: string): string {
  return `${publicUrl}/unsubscribe/${unsubscribeToken}/l/${listId}`;
}

/** A subscriber's preference centre; the same capability as the unsubscribe link. */
export function preferencesUrl(publicUrl: string, unsubscribeToken: string): string {
  return `${publicUrl}/preferences/${unsubscribeToken}`;
}
