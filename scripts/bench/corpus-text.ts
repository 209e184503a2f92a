/**
 * Seeded randomness and office-mail prose for the benchmark corpus. Everything here is a
 * pure function of the PRNG state, so the same seed gives byte-identical messages.
 */

/** A PRNG returning floats in [0, 1). */
export type Rng = () => number;

/** mulberry32: tiny, fast and good enough for test data (not for anything secret). */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;
export const between = (rng: Rng, min: number, max: number): number => min + Math.floor(rng() * (max - min + 1));

/** Pseudo-random bytes from the PRNG, so attachments are deterministic too. */
export function randomBytesFrom(rng: Rng, n: number): Buffer {
  const buf = Buffer.alloc(n);
  for (let i = 0; i + 4 <= n; i += 4) buf.writeUInt32LE(Math.floor(rng() * 4294967296), i);
  for (let i = n - (n % 4); i < n; i++) buf[i] = Math.floor(rng() * 256);
  return buf;
}

// Some names carry non-ASCII letters so headers need RFC 2047 words and bodies
// quoted-printable, as in a real company's mail.
const FIRST = ['Alice', 'Bruno', 'Chloé', 'Dmitri', 'Elena', 'Farid', 'Greta', 'Hiro', 'Inès', 'Jonas',
  'Kateřina', 'Liam', 'Maya', 'Nils', 'Olga', 'Pablo', 'Quinn', 'Rosa', 'Søren', 'Tara',
  'Umar', 'Vera', 'Wen', 'Ximena', 'Yusuf', 'Zoë', 'Amir', 'Beatriz', 'Conor', 'Daria'];
const LAST = ['Andersen', 'Bianchi', 'Chen', 'Dubois', 'Eriksen', 'Fischer', 'García', 'Haddad', 'Ivanova', 'Jansen',
  'Kowalski', 'López', 'Müller', 'Nakamura', 'Okafor', 'Petrov', 'Rossi', 'Schmidt', 'Tanaka', 'Weber'];
const TITLES = ['Product Manager', 'Staff Engineer', 'Head of Sales EMEA', 'Finance Controller', 'Support Lead',
  'Engineering Manager', 'UX Researcher', 'Account Executive', 'Data Analyst', 'Operations Director'];

export interface BenchPerson {
  email: string;
  name: string;
  title: string;
  phone: string;
}

/** `count` distinct people at `corp.test`, the same list for the same seed. */
export function benchPeople(seed: number, count = 50): BenchPerson[] {
  const rng = mulberry32(seed ^ 0x5eed);
  const out: BenchPerson[] = [];
  const used = new Set<string>();
  while (out.length < count) {
    const first = pick(rng, FIRST);
    const last = pick(rng, LAST);
    const local = `${ascii(first)}.${ascii(last)}`.toLowerCase();
    if (used.has(local)) continue;
    used.add(local);
    out.push({
      email: `${local}@corp.test`,
      name: `${first} ${last}`,
      title: pick(rng, TITLES),
      phone: `+44 20 7946 ${String(between(rng, 0, 9999)).padStart(4, '0')}`,
    });
  }
  return out;
}

function ascii(s: string): string {
  return s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/ø/g, 'o');
}

const TOPICS = ['Q3 budget', 'Atlas launch', 'vendor contract', 'data-centre migration', 'onboarding flow',
  'pricing page', 'SOC 2 audit', 'hiring plan', 'customer escalation', 'release 4.2', 'Zürich offsite',
  'support rota', 'churn analysis', 'partner programme', 'API deprecation', 'board deck'];
const SUBJECT_FORMS = ['{t} review', 'Update on the {t}', '{t}: next steps', 'Notes from the {t} sync',
  'Question about the {t}', '{t} timeline', 'Draft: {t} proposal', 'Weekly status: {t}', 'Decision needed on the {t}'];
const OPENERS = ['Hi all,', 'Hello team,', 'Hi everyone,', 'Morning,', 'Thanks for the quick turnaround.', 'Quick update:'];
const SUBJECTS = ['The rollout', 'Our forecast', 'The vendor', 'Finance', 'The design review', 'Legal',
  'The customer', 'The on-call rota', 'The migration plan', 'Marketing', 'The pilot group', 'Our café budget'];
const VERBS = ['is on track for', 'slipped to', 'needs sign-off before', 'was discussed on', 'depends on',
  'should be ready by', 'came in under budget for', 'is blocked until', 'will be revisited after', 'was approved for'];
const OBJECTS = ['the end of the sprint', 'next Thursday', 'the Q4 planning cycle', 'the partner summit',
  'the security review', 'the holiday freeze', 'the board meeting', 'the München workshop', 'the beta cohort'];
const TAILS = ['', '', '', ' Let me know if that does not work for you.', ' I have attached the latest numbers.',
  ' See the notes from Tuesday for details.', ' The naïve estimate was €12,500 higher.', ' Happy to discuss in the stand-up.',
  ' Costs are tracked in the shared sheet.', ' This supersedes the plan from last month.'];

/** One made-up sentence, with a number now and then. */
export function sentence(rng: Rng): string {
  const n = rng() < 0.3 ? ` (${between(rng, 2, 97)}% of the target)` : '';
  return `${pick(rng, SUBJECTS)} ${pick(rng, VERBS)} ${pick(rng, OBJECTS)}${n}.${pick(rng, TAILS)}`;
}

/** A paragraph of 2–6 sentences, roughly 150–700 characters. */
export function paragraph(rng: Rng): string {
  const n = between(rng, 2, 6);
  return Array.from({ length: n }, () => sentence(rng)).join(' ');
}

export function opener(rng: Rng): string {
  return pick(rng, OPENERS);
}

export function threadSubject(rng: Rng): string {
  return pick(rng, SUBJECT_FORMS).replace('{t}', pick(rng, TOPICS));
}

/** An RFC 3676 signature block: the "-- " line, then name, title and phone. */
export function signatureLines(p: BenchPerson): string[] {
  return ['-- ', p.name, `${p.title} | Corp Ltd`, p.phone];
}

/** Hard-wrap a paragraph at `width` columns, as most clients do for text/plain. */
export function wrap(text: string, width = 72): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) out.push(line);
  return out;
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** "Tue, 4 Mar 2025 at 09:14", the way Gmail writes the date in an attribution line. */
export function attributionDate(d: Date): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const hh = String(d.getUTCHours()).padStart(2, '0');
  const mm = String(d.getUTCMinutes()).padStart(2, '0');
  return `${days[d.getUTCDay()]}, ${d.getUTCDate()} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} at ${hh}:${mm}`;
}
