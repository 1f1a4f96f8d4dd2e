// nbval's sanitizer file (an INI file of [sections] with `regex:` and `replace:`), applied the way
// nbval applies it: every rule, in file order, to every text before outputs are compared.
import { readFileSync } from "node:fs";

export interface SanitizeRule {
  section: string;
  regex: RegExp;
  replace: string;
}

export class SanitizeConfigError extends Error {
  code = "ERR_SANITIZE_CONFIG";
}

/** Python `re` syntax to JavaScript: named groups, backreferences, \A and \Z. */
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
  const js = src
    .replace(/\(\?P<(\w+)>/g, "(?<$1>")
    .replace(/\(\?P=(\w+)\)/g, "\\k<$1>")
    .replace(/\\A/g, "^")
    .replace(/\\Z/g, "$(?![\\s\\S])");
  try {
    return new RegExp(js, flags);
  } catch (e) {
    throw new SanitizeConfigError(`${where}: ${(e as Error).message}`);
  }
}

/** Python replacement syntax (\1, \g<1>, \g<name>) to JavaScript's ($1, $<name>). */
function pythonReplacement(src: string): string {
  return src
    .replace(/\$/g, "$$$$")
    .replace(/\\g<(\d+)>/g, "$$$1")
    .replace(/\\g<(\w+)>/g, "$$<$1>")
    .replace(/\\(\d+)/g, "$$$1")
    .replace(/\\n/g, "\n")
    .replace(/\\t/g, "\t")
    .replace(/\\\\/g, "\\");
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
    const kv = /^([^:=]+?)\s*[:=]\s?(.*)$/.exec(raw);
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
