/**
 * The CSS rules an email keeps in <style> blocks outside any @media block. Email clients that drop
 * <style> blocks would lose these, so a designed email must have none: every rule the content depends
 * on belongs in a style attribute.
 */
export function rulesOutsideMedia(html: string): string[] {
  const css = [...html.matchAll(/<style[^>]*>([\s\S]*?)<\/style>/gi)].map((match) => match[1]!).join('\n');
  let outside = '';
  for (let i = 0; i < css.length; i++) {
    if (css.startsWith('@media', i)) {
      let level = 0;
      let j = css.indexOf('{', i);
      for (; j < css.length; j++) {
        if (css[j] === '{') level++;
        if (css[j] === '}' && --level === 0) break;
      }
      i = j;
      continue;
    }
    outside += css[i];
  }
  return outside.split('}').map((rule) => rule.trim()).filter(Boolean);
}

/**
 * An email's HTML without the style attributes the layout's inliner wrote, so a test can state the
 * markup it expects as written, whatever the design adds.
 */
export function withoutInlineStyles(html: string): string {
  return html.replace(/ style="[^"]*"/g, '');
}
