export function StartupProblem({ reason }: { reason: string }) {
  return (
    <main className="startup-problem">
      <h1>MoE Workbench</h1>
      <p role="alert">{reason}</p>
    </main>
  );
}
