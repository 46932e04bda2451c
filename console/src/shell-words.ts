// Splits a typed line into argv the way a POSIX shell does, without expansions: blanks separate
// words; 'single quotes' keep everything; "double quotes" keep everything but \" \\ \$ \`; a
// backslash outside quotes keeps the next character; # at the start of a word begins a comment.
// No $VARIABLES, globs, pipes or redirections: the console runs berth commands, not a shell.

export class UnterminatedQuote extends Error {
  constructor(readonly quote: string) {
    super(`unterminated ${quote === "'" ? 'single' : 'double'} quote: close it with ${quote}`);
  }
}

export function splitWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else if (c === '#' && !inWord) {
      break;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new UnterminatedQuote("'");
      word += line.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < line.length && line[j] !== '"'; j++) {
        if (line[j] === '\\' && '"\\$`'.includes(line[j + 1] ?? '')) j++;
        word += line[j];
      }
      if (j >= line.length) throw new UnterminatedQuote('"');
      inWord = true;
      i = j;
    } else if (c === '\\') {
      // A trailing backslash stands for itself (a shell would continue the line).
      word += i + 1 < line.length ? line[++i] : '\\';
      inWord = true;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** The argv as it can be typed back (for panel titles and history). */
export function joinWords(argv: string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}
