// Terminal sequences an app can print to attack whoever reads its output (issue 14's attack run),
// each with how Berth's text mode shows it (cli/core/terminal-safe.ts).
/** The attack run's sequences, each with how text mode shows it. */
export const HOSTILE: { name: string; raw: string; shown: string }[] = [
  { name: 'OSC 52 clipboard write', raw: '\x1b]52;c;ZWNobyBwd25lZA==\x07', shown: '␛]52;c;ZWNobyBwd25lZA==␇' },
  { name: 'OSC 0 window title', raw: '\x1b]0;owned\x07', shown: '␛]0;owned␇' },
  { name: 'OSC 8 hyperlink', raw: '\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\', shown: '␛]8;;https://evil.example␛\\click␛]8;;␛\\' },
  { name: 'clear screen', raw: '\x1b[2J\x1b[3J', shown: '␛[2J␛[3J' },
  { name: 'cursor moves', raw: '\x1b[H\x1b[5A\x1b[10;1H', shown: '␛[H␛[5A␛[10;1H' },
  { name: 'device status query', raw: '\x1b[6n\x1b[c', shown: '␛[6n␛[c' },
  { name: 'DCS', raw: '\x1bP+q544e\x1b\\', shown: '␛P+q544e␛\\' },
  { name: 'C1 CSI', raw: '\u009b2J', shown: '\\u009b2J' },
  { name: 'BEL', raw: 'ding\x07', shown: 'ding␇' },
  { name: 'CR', raw: 'real\rforged', shown: 'real␍forged' },
  { name: 'colour that hides text', raw: '\x1b[8mhidden\x1b[0m', shown: '␛[8mhidden␛[0m' },
];

