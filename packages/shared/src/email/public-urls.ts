/** The public page of one issue (a campaign): its "view in browser" link and archive entry. */
export function issueUrl(publicUrl: string, campaignId: string): string {
  return `${publicUrl}/archive/${campaignId}`;
}

/** A subscriber's one-click unsubscribe page, in the footer and the List-Unsubscribe header. */
export function unsubscribeUrl(publicUrl: string, unsubscribeToken: string): string {
  return `${publicUrl}/unsubscribe/${unsubscribeToken}`;
}
