/**
 * The RFC 2919 `List-Id` of a list: its name as the phrase and `<slug.host>` as the id, the host
 * being PUBLIC_URL's (the namespace an operator controls), so mail clients can file and filter each
 * list apart. A slug is lower-case letters, digits and dashes (a database check), which is a valid
 * list label. A name with characters beyond printable ASCII is encoded (RFC 2047), and quotes and
 * backslashes in it are escaped, so no name can break the header.
 */
export function listIdHeader(list: { name: string; slug: string }, publicUrl: string): string {
  const host = new URL(publicUrl).hostname.replace(/^\[|\]$/g, '').replace(/:/g, '-');
  const name = list.name.replace(/[\r\n]+/g, ' ').trim();
  const phrase = /^[\x20-\x7e]*$/.test(name) ? `"${name.replace(/(["\\])/g, '\\$1')}"` : encodedWords(name);
  return `${phrase} <${list.slug}.${host}>`;
}

/** RFC 2047 encoded words of at most 75 characters each (45 bytes of UTF-8), never splitting a character. */
function encodedWords(text: string): string {
  const words: string[] = [];
  let chunk = '';
  for (const char of text) {
    if (Buffer.byteLength(chunk + char, 'utf8') > 45) {
      words.push(chunk);
      chunk = '';
    }
    chunk += char;
  }
  if (chunk) words.push(chunk);
  return words.map((word) => `=?UTF-8?B?${Buffer.from(word, 'utf8').toString('base64')}?=`).join(' ');
}
