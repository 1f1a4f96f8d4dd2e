// Builds a small routed lab, sends UDP across it and prints what happened as JSON: run by
// test/lab.test.ts as root and as an ordinary user (where the lab lives in a user namespace).
import { labAccess, startLab } from "../../helpers/lab";
import * as probe from "./lab-probe";

async function main() {
  const lab = await startLab({
    hosts: { a: {}, r: { router: true }, b: {} },
    links: [
      { between: ["a", "r"], subnet: "10.0.1.0/24" },
      { between: ["r", "b"], subnet: "10.0.2.0/24", mtu: 1400 },
    ],
  });
  try {
    const echo = await lab.host("b").run(probe, "udpEcho", "0.0.0.0");
    const back = await lab.host("a").run(probe, "udpRoundTrips", lab.address("b"), echo.port, 20, 300);
    const seenByB = await lab.host("b").run(probe, "addresses");
    const mtu = await lab.host("b").exec(["cat", "/sys/class/net/eth0/mtu"]);
    const uid = await lab.host("b").exec(["id", "-u"]);
    const guardLetsAgentsSend = await lab.host("a").run(probe, "insideLab");
    console.log(
      JSON.stringify({
        mode: labAccess().mode,
        back,
        seenByB,
        mtu: Number(mtu),
        uidInside: Number(uid),
        guardLetsAgentsSend,
        prefix: lab.prefix,
      }),
    );
  } finally {
    await lab.close();
  }
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
