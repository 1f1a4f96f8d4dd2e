// Jupyter widgets, kernel side, on the kernel's comms: the widget message protocol 2.1.0 that
// ipywidgets 8, JupyterLab 4, Notebook 7 and VS Code speak. Sliders (int, float, log), dropdown,
// checkbox, toggle buttons, button, text, output and boxes; `interact` re-runs a function when a
// control changes and shows what it returns. State syncs both ways: the kernel sends `update`s,
// a frontend's update is applied and echoed back (`echo_update`) so every view agrees, and the
// frontend can ask for everything (`request_state`, and `request_states` on the control comm).
import { bundleOf, JUPYTER_DISPLAY, openComm, registerCommTarget, show, type Comm } from "../../kernel/runtime";
import type { MimeBundle } from "../../kernel/runtime";

export const WIDGET_PROTOCOL_VERSION = "2.1.0";
const CONTROLS = { module: "@jupyter-widgets/controls", version: "2.0.0" };
const BASE = { module: "@jupyter-widgets/base", version: "2.0.0" };
const OUTPUT = { module: "@jupyter-widgets/output", version: "1.0.0" };
export const WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json";
export const WIDGET_STATE_MIME = "application/vnd.jupyter.widget-state+json";

type State = Record<string, unknown>;
type Module = { module: string; version: string };

/** Every model alive in this kernel, for the control comm's request_states and widgetState(). */
const live = new Map<string, Widget>();

/** One widget model: its state, the comm it lives on, and who observes which attribute. */
export class Widget {
  readonly id: string;
  readonly modelName: string;
  private readonly comm: Comm;
  private readonly state: State;
  private readonly observers = new Map<string, Array<(value: unknown) => void>>();
  private readonly customHandlers: Array<(content: State) => void> = [];

  constructor(model: string, view: string | null, module: Module, state: State, viewModule = module) {
    this.modelName = `${model}Model`;
    this.state = {
      _model_name: this.modelName,
      _model_module: module.module,
      _model_module_version: module.version,
      _view_name: view === null ? null : `${view}View`,
      _view_module: viewModule.module,
      _view_module_version: viewModule.version,
      _view_count: null,
      ...state,
    };
    this.comm = openComm(
      "jupyter.widget",
      { state: this.state, buffer_paths: [] },
      { metadata: { version: WIDGET_PROTOCOL_VERSION } },
    );
    this.id = this.comm.id;
    live.set(this.id, this);
    this.comm.onMessage((m) => this.receive(m.data));
    this.comm.onClose(() => live.delete(this.id));
  }

  get(name: string): unknown {
    return this.state[name];
  }

  /** Changes attributes here and in every frontend (observers run too). */
  set(changes: State): void {
    Object.assign(this.state, changes);
    this.comm.send({ method: "update", state: changes, buffer_paths: [] });
    this.notify(changes);
  }

  /** Runs `fn` with the new value whenever `name` changes, from the kernel or a frontend. */
  observe(name: string, fn: (value: unknown) => void): void {
    this.observers.set(name, [...(this.observers.get(name) ?? []), fn]);
  }

  /** A `custom` message from the frontend (a button's click). */
  onCustom(fn: (content: State) => void): void {
    this.customHandlers.push(fn);
  }

  /** The whole state, as request_state and the saved notebook carry it. */
  fullState(): State {
    return { ...this.state };
  }

  get module(): string {
    return String(this.state._model_module);
  }

  get moduleVersion(): string {
    return String(this.state._model_module_version);
  }

  /** Closes the model in every frontend. */
  close(): void {
    live.delete(this.id);
    this.comm.close();
  }

  /** The output a cell shows: the frontend renders the model's view; text elsewhere. */
  [JUPYTER_DISPLAY](): MimeBundle {
    // No id in the text: a frontend without widgets (or the replay) sees the same every run.
    const name = this.modelName.replace(/Model$/, "");
    const description = String(this.state.description ?? "");
    return {
      "text/plain": description ? `${name}: ${description}` : name,
      [WIDGET_VIEW_MIME]: { model_id: this.id, version_major: 2, version_minor: 0 },
    };
  }

  /** Shows the widget in the running cell's output. */
  display(): void {
    show(this[JUPYTER_DISPLAY]());
  }

  private receive(data: State) {
    switch (data.method) {
      case "update": {
        const changes = typeof data.state === "object" && data.state ? (data.state as State) : {};
        Object.assign(this.state, changes);
        // 2.1.0: the kernel echoes a frontend's update, so other views of the model follow it.
        this.comm.send({ method: "echo_update", state: changes, buffer_paths: [] });
        this.notify(changes);
        return;
      }
      case "request_state":
        this.comm.send({ method: "update", state: this.fullState(), buffer_paths: [] });
        return;
      case "custom": {
        const content = typeof data.content === "object" && data.content ? (data.content as State) : {};
        for (const fn of this.customHandlers) fn(content);
      }
    }
  }

  private notify(changes: State) {
    for (const [name, value] of Object.entries(changes)) for (const fn of this.observers.get(name) ?? []) fn(value);
  }
}

const ref = (w: Widget) => `IPY_MODEL_${w.id}`;
const layout = () => new Widget("Layout", "Layout", BASE, {});
const style = (name: string, state: State = {}) => new Widget(name, "Style", { ...CONTROLS }, state, BASE);

/** The attributes every control shares (description, layout, style). */
function control(description: string, styleName: string, styleState: State = {}): State {
  return {
    description,
    description_allow_html: false,
    disabled: false,
    layout: ref(layout()),
    style: ref(style(styleName, { description_width: "", ...styleState })),
    tabbable: null,
    tooltip: null,
    _dom_classes: [],
  };
}

/** A control whose value a learner changes; `value` is what the kernel sees now. */
export class Control<T> extends Widget {
  constructor(
    model: string,
    state: State,
    private readonly read: (w: Widget) => T,
    private readonly write: (value: T) => State,
  ) {
    super(model, model, CONTROLS, state);
  }

  get value(): T {
    return this.read(this);
  }

  set value(v: T) {
    this.set(this.write(v));
  }

  /** Runs `fn` with the new value when it changes (the attribute that carries it varies). */
  onChange(fn: (value: T) => void): void {
    const attribute = Object.keys(this.write(this.value))[0];
    this.observe(attribute, () => fn(this.value));
  }
}

const asNumber = (name: string) => (w: Widget) => Number(w.get(name));

interface SliderOptions {
  value?: number;
  min?: number;
  max?: number;
  step?: number;
  description?: string;
  continuousUpdate?: boolean;
}

function slider(
  model: string,
  o: SliderOptions,
  defaults: Required<Omit<SliderOptions, "description">>,
  format: string,
) {
  const { value, min, max, step, continuousUpdate } = { ...defaults, ...o };
  if (!(min <= max)) throw new RangeError(`a slider's min (${min}) must not be above its max (${max})`);
  const state = {
    ...control(o.description ?? "", "SliderStyle", { handle_color: null }),
    value: Math.min(max, Math.max(min, value)),
    min,
    max,
    step,
    orientation: "horizontal",
    readout: true,
    readout_format: format,
    continuous_update: continuousUpdate,
    behavior: "drag-tap",
  };
  return new Control<number>(model, state, asNumber("value"), (v) => ({ value: v }));
}

export const intSlider = (o: SliderOptions = {}) =>
  slider("IntSlider", o, { value: 0, min: 0, max: 100, step: 1, continuousUpdate: false }, "d");

export const floatSlider = (o: SliderOptions = {}) =>
  slider("FloatSlider", o, { value: 0, min: 0, max: 10, step: 0.1, continuousUpdate: false }, ".2f");

/** A slider over exponents: its value is base ** exponent, from base ** min to base ** max. */
export function floatLogSlider(o: SliderOptions & { base?: number } = {}): Control<number> {
  const base = o.base ?? 10;
  const min = o.min ?? 0;
  const max = o.max ?? 4;
  const value = o.value ?? base ** min;
  if (!(value > 0)) throw new RangeError(`a log slider's value must be positive, got ${value}`);
  const state = {
    ...control(o.description ?? "", "SliderStyle", { handle_color: null }),
    value,
    base,
    min,
    max,
    step: o.step ?? 0.1,
    orientation: "horizontal",
    readout: true,
    readout_format: ".3g",
    continuous_update: o.continuousUpdate ?? false,
    behavior: "drag-tap",
  };
  return new Control<number>("FloatLogSlider", state, asNumber("value"), (v) => ({ value: v }));
}

/** A choice among labels (a dropdown, or toggle buttons): frontends send the index. */
function choice(model: string, styleName: string, options: string[], value: string | undefined, extra: State) {
  if (!options.length) throw new RangeError(`a ${model} needs at least one option`);
  const index = value === undefined ? 0 : options.indexOf(value);
  if (index < 0) throw new RangeError(`${JSON.stringify(value)} is not one of the options`);
  const state = { ...control(String(extra.description ?? ""), styleName), _options_labels: options, index, ...extra };
  return new Control<string>(
    model,
    state,
    (w) => options[Number(w.get("index"))] ?? options[0],
    (v) => {
      const i = options.indexOf(v);
      if (i < 0) throw new RangeError(`${JSON.stringify(v)} is not one of the options`);
      return { index: i };
    },
  );
}

export const dropdown = (o: { options: string[]; value?: string; description?: string }) =>
  choice("Dropdown", "DescriptionStyle", o.options, o.value, { description: o.description ?? "" });

export const toggleButtons = (o: { options: string[]; value?: string; description?: string }) =>
  choice("ToggleButtons", "ToggleButtonsStyle", o.options, o.value, {
    description: o.description ?? "",
    button_style: "",
    icons: [],
    tooltips: [],
  });

export function checkbox(o: { value?: boolean; description?: string } = {}): Control<boolean> {
  const state = { ...control(o.description ?? "", "CheckboxStyle"), value: o.value ?? false, indent: true };
  return new Control<boolean>(
    "Checkbox",
    state,
    (w) => Boolean(w.get("value")),
    (v) => ({ value: v }),
  );
}

export function text(o: { value?: string; placeholder?: string; description?: string } = {}): Control<string> {
  const state = {
    ...control(o.description ?? "", "TextStyle"),
    value: o.value ?? "",
    placeholder: o.placeholder ?? "",
    continuous_update: false,
  };
  return new Control<string>(
    "Text",
    state,
    (w) => String(w.get("value")),
    (v) => ({ value: v }),
  );
}

/** A button; `onClick` runs when a frontend clicks it. */
export class Button extends Widget {
  constructor(description: string) {
    super("Button", "Button", CONTROLS, {
      ...control(description, "ButtonStyle", { button_color: null, font_weight: "" }),
      button_style: "",
      icon: "",
    });
  }

  onClick(fn: () => void): void {
    this.onCustom((content) => {
      if (content.event === "click") fn();
    });
  }
}

export const button = (description: string) => new Button(description);

/** An output area the kernel fills: what it shows is part of the model's state, so every
 *  frontend (and a saved notebook) shows the same. */
export class Output extends Widget {
  constructor() {
    super("Output", "Output", OUTPUT, { layout: ref(layout()), msg_id: "", outputs: [], _dom_classes: [] });
  }

  clear(): void {
    this.set({ outputs: [] });
  }

  /** Replaces what it shows with a value's display: a chart, a table, text. */
  showValue(value: unknown): void {
    this.set({ outputs: [{ output_type: "display_data", data: bundleOf(value), metadata: {} }] });
  }
}

export const output = () => new Output();

function box(model: string, children: Widget[]): Widget {
  return new Widget(model, model, CONTROLS, {
    children: children.map(ref),
    box_style: "",
    layout: ref(layout()),
    tabbable: null,
    tooltip: null,
    _dom_classes: [],
  });
}

export const hbox = (children: Widget[]) => box("HBox", children);
export const vbox = (children: Widget[]) => box("VBox", children);

type ValuesOf<C extends Record<string, Control<unknown>>> = { [K in keyof C]: C[K]["value"] };

export interface Interaction<C extends Record<string, Control<unknown>>> {
  controls: C;
  output: Output;
  box: Widget;
  /** Runs the function with the controls' values now; resolves once its result is shown. */
  update(): Promise<void>;
  /** How many times the function has run. */
  readonly runs: number;
}

/** Shows the controls above an output and runs `fn` with their values, now and whenever one
 *  changes; what it returns (a chart, a table) is shown in the output. Runs never overlap: a
 *  change during a run is taken up once that run ends, with the latest values. */
export function interact<C extends Record<string, Control<unknown>>>(
  controls: C,
  fn: (values: ValuesOf<C>) => unknown,
): Interaction<C> {
  const out = output();
  const all = vbox([...Object.values(controls), out]);
  let running: Promise<void> | null = null;
  let again = false;
  let runs = 0;
  const values = () => Object.fromEntries(Object.entries(controls).map(([k, c]) => [k, c.value])) as ValuesOf<C>;
  const runOnce = async () => {
    runs++;
    try {
      out.showValue(await fn(values()));
    } catch (e) {
      out.set({ outputs: [{ output_type: "stream", name: "stderr", text: `${(e as Error).message ?? e}\n` }] });
    }
  };
  const update = (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await runOnce();
      } while (again);
      running = null;
    })();
    return running;
  };
  for (const c of Object.values(controls)) c.onChange(() => void update());
  all.display();
  const first = update();
  return {
    controls,
    output: out,
    box: all,
    update: () => first.then(update),
    get runs() {
      return runs;
    },
  };
}

/** The notebook-metadata document that lets a saved notebook show its widgets without a kernel. */
export function widgetState(): { version_major: 2; version_minor: 0; state: Record<string, object> } {
  const state: Record<string, object> = {};
  for (const w of live.values()) {
    state[w.id] = {
      model_name: w.modelName,
      model_module: w.module,
      model_module_version: w.moduleVersion,
      state: w.fullState(),
    };
  }
  return { version_major: 2, version_minor: 0, state };
}

// The control comm: a frontend that (re)connects asks for every model's state at once.
registerCommTarget("jupyter.widget.control", (comm) => {
  comm.onMessage((m) => {
    if (m.data.method !== "request_states") return;
    comm.send({ method: "update_states", states: widgetState().state, buffer_paths: {} });
  });
});
