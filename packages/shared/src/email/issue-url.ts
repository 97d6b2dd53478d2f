/** The public page of one issue (a campaign): its "view in browser" link and archive entry. */
export function issueUrl(publicUrl: string, campaignId: string): string {
  return `${publicUrl}/archive/${campaignId}`;
}
