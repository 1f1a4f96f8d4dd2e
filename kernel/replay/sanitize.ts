// The replay's sanitizer: nbval's sanitizer file (an INI file of [sections] with `regex:` and
// `replace:`), applied the way nbval applies it: every rule, in file order, to every text before
// outputs are compared.
import { readFileSync } from "node:fs";

export interface SanitizeRule {
  section: string;
  regex: RegExp;
  replace: string;
}

export class SanitizeConfigError extends Error {
  code = "ERR_SANITIZE_CONFIG";
}

/** Python `re` syntax to JavaScript: named groups, backreferences, \A, \Z and `$` (which also
 *  matches before a final newline). */
function pythonRegex(src: string, where: string): RegExp {
  let flags = "g";
  const inline = /^\(\?([aiLmsux]+)\)/.exec(src);
  if (inline) {
    for (const f of inline[1]) {
      if (f === "i" || f === "m" || f === "s") flags += f;
      else if (f !== "u") throw new SanitizeConfigError(`${where}: inline flag (?${f}) has no JavaScript equivalent`);
    }
    src = src.slice(inline[0].length);
  }
  // One pass that knows escapes and character classes, so "\\A" or "[$]" are left alone.
  let js = "";
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    const rest = src.slice(i);
    if (c === "\\") {
      const next = src[i + 1] ?? "";
      js += inClass ? c + next : next === "A" ? "(?<![\\s\\S])" : next === "Z" ? "(?![\\s\\S])" : c + next;
      i++;
    } else if (inClass) {
      if (c === "]") inClass = false;
      js += c;
    } else if (c === "[") {
      inClass = true;
      const lead = /^\[\^?\]?/.exec(rest)![0]; // Python reads a "]" right after "[" or "[^" literally
      js += lead.endsWith("]") ? lead.slice(0, -1) + "\\]" : lead;
      i += lead.length - 1;
    } else if (rest.startsWith("(?P<")) {
      js += "(?<";
      i += 3;
    } else if (/^\(\?P=\w+\)/.test(rest)) {
      const [whole, name] = /^\(\?P=(\w+)\)/.exec(rest)!;
      js += `\\k<${name}>`;
      i += whole.length - 1;
    } else if (c === "$" && !flags.includes("m")) {
      js += "(?=\\n?(?![\\s\\S]))"; // Python's $ also matches before a final newline
    } else js += c;
  }
  try {
    return new RegExp(js, flags);
  } catch (e) {
    throw new SanitizeConfigError(`${where}: ${(e as Error).message}`);
  }
}

/** Python replacement syntax (\1, \g<1>, \g<name>) to JavaScript's ($1, $<name>). */
function pythonReplacement(src: string): string {
  const escapes: Record<string, string> = {
    n: "\n",
    t: "\t",
    r: "\r",
    f: "\f",
    v: "\v",
    a: "\x07",
    b: "\b",
    "\\": "\\",
  };
  // One pass, so an escaped backslash followed by a digit ("\\1") is not read as a group.
  return src.replace(/\$|\\(?:g<(\w+)>|(\d\d?)|([\s\S]))/g, (m, named?: string, num?: string, ch?: string) => {
    if (m === "$") return "$$";
    const group = named ?? num;
    if (group === undefined) return escapes[ch!] ?? m;
    if (!/^\d+$/.test(group)) return `$<${group}>`;
    return Number(group) === 0 ? "$&" : `$${group.padStart(2, "0")}`; // two digits: "\g<1>0" is group 1, then "0"
  });
}

/** Parses the INI dialect Python's configparser reads: comments, continuation lines, `:` or `=`. */
export function parseSanitizeConfig(text: string, file = "sanitize.cfg"): SanitizeRule[] {
  const sections: Array<{ name: string; line: number; values: Record<string, string> }> = [];
  let key: string | null = null;
  text.split(/\r?\n/).forEach((raw, i) => {
    const where = `${file}:${i + 1}`;
    if (/^\s*[#;]/.test(raw) || raw.trim() === "") {
      key = raw.trim() === "" ? null : key;
      return;
    }
    const section = /^\[([^\]]+)\]\s*$/.exec(raw);
    if (section) {
      sections.push({ name: section[1], line: i + 1, values: {} });
      key = null;
      return;
    }
    const current = sections[sections.length - 1];
    if (/^\s/.test(raw) && key && current) {
      current.values[key] += "\n" + raw.trim();
      return;
    }
    const kv = /^([^:=]+?)\s*[:=]\s*(.*)$/.exec(raw); // configparser strips values
    if (!kv || !current) throw new SanitizeConfigError(`${where}: expected "key: value" inside a [section]`);
    key = kv[1].trim().toLowerCase();
    current.values[key] = kv[2].trimEnd();
  });
  return sections.map(({ name, line, values }) => {
    const where = `${file}:${line} [${name}]`;
    if (values.regex === undefined) throw new SanitizeConfigError(`${where}: missing "regex"`);
    return { section: name, regex: pythonRegex(values.regex, where), replace: pythonReplacement(values.replace ?? "") };
  });
}

export function loadSanitizeConfig(path: string): SanitizeRule[] {
  return parseSanitizeConfig(readFileSync(path, "utf8"), path);
}

export function sanitize(text: string, rules: SanitizeRule[]): string {
  return rules.reduce((t, r) => t.replace(r.regex, r.replace), text);
}
