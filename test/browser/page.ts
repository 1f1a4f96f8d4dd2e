// The browser side of test/browser/widgets.test.ts: a page that talks to a Jupyter server's kernel
// API with @jupyterlab/services and renders the kernel's widgets with @jupyter-widgets/html-manager,
// as a frontend does. The test drives it from Chromium: window.wirebook.run(code) executes a cell.
// Bundled by the test with esbuild; type-checked by test/browser/tsconfig.json (it needs the DOM).
import { KernelManager, ServerConnection, type Kernel, type KernelMessage } from "@jupyterlab/services";
import { HTMLManager } from "@jupyter-widgets/html-manager";
import { shims } from "@jupyter-widgets/base";
import "@jupyter-widgets/controls/css/widgets-base.css";

const WIDGET_VIEW = "application/vnd.jupyter.widget-view+json";

/** HTMLManager renders widgets; this subclass gives it comms over a live kernel. */
class KernelWidgetManager extends HTMLManager {
  constructor(private kernel: Kernel.IKernelConnection) {
    super();
    kernel.registerCommTarget(this.comm_target_name, async (comm, msg) => {
      await this.handle_comm_open(new shims.services.Comm(comm), msg);
    });
  }
  async _create_comm(target: string, id?: string, data?: any, metadata?: any, buffers?: any) {
    const comm = this.kernel.createComm(target, id);
    if (data || metadata) comm.open(data, metadata, buffers);
    return new shims.services.Comm(comm);
  }
  async _get_comm_info() {
    const reply = await this.kernel.requestCommInfo({ target_name: this.comm_target_name });
    return reply.content.status === "ok" ? reply.content.comms : {};
  }
}

async function main() {
  const q = new URLSearchParams(location.search);
  const baseUrl = q.get("server")!;
  const serverSettings = ServerConnection.makeSettings({
    baseUrl,
    wsUrl: baseUrl.replace(/^http/, "ws"),
    token: q.get("token")!,
    appendToken: true,
  });
  const kernel = await new KernelManager({ serverSettings }).startNew({ name: q.get("kernel") ?? "wirebook" });
  const manager = new KernelWidgetManager(kernel);
  const cells = document.getElementById("cells")!;

  /** Executes a cell; shows its widgets and text, resolves with its text/plain results. */
  async function run(code: string): Promise<string[]> {
    const cell = document.createElement("div");
    cell.className = "cell";
    cells.appendChild(cell);
    const results: string[] = [];
    const future = kernel.requestExecute({ code });
    future.onIOPub = (msg: KernelMessage.IIOPubMessage) => {
      const c: any = msg.content;
      if (msg.header.msg_type === "stream") results.push(c.text);
      if (msg.header.msg_type === "error") results.push(`${c.ename}: ${c.evalue}`);
      if (!["display_data", "execute_result"].includes(msg.header.msg_type)) return;
      const view = c.data[WIDGET_VIEW];
      if (view) {
        const el = document.createElement("div");
        cell.appendChild(el);
        void manager.get_model(view.model_id).then(async (model) => {
          await manager.display_view(await manager.create_view(model), el);
        });
      } else if (c.data["text/plain"]) results.push(c.data["text/plain"]);
    };
    const reply = await future.done;
    if (reply.content.status !== "ok") results.push(`status ${reply.content.status}`);
    return results;
  }
  (window as any).wirebook = { run, ready: true, shutdown: () => kernel.shutdown() };
}

main().catch((e) => {
  (window as any).wirebook = { error: String(e?.stack ?? e) };
});
