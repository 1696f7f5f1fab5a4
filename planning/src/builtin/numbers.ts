/** Number words operators write ("two hosts at a time", "wait five seconds"). */
const WORDS: Record<string, number> = {
  a: 1,
  an: 1,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  thirteen: 13,
  fourteen: 14,
  fifteen: 15,
  sixteen: 16,
  seventeen: 17,
  eighteen: 18,
  nineteen: 19,
  twenty: 20,
  thirty: 30,
  forty: 40,
  'forty-five': 45,
  fifty: 50,
  sixty: 60,
  ninety: 90,
};

/** A number written in digits or as a word (`a`/`an` is one); alternation for a regex. */
export const NUMBER = String.raw`\d{1,5}(?:\.\d{1,3})?|forty-five|${Object.keys(WORDS)
  .filter((w) => w !== 'forty-five')
  .sort((a, b) => b.length - a.length)
  .join('|')}`;

export const numberOf = (word: string): number => {
  const w = word.toLowerCase();
  return Object.hasOwn(WORDS, w) ? WORDS[w]! : Number(w);
};
