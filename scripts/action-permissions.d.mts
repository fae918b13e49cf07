export interface ActionPermissions {
  always: Record<string, string>;
  when: { input: string; value: string; permissions: Record<string, string> }[];
}
export function readActionPermissions(yamlText: string): ActionPermissions | undefined;
