CREATE TABLE `changes` (
	`rev` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`resource` text NOT NULL,
	`namespace` text NOT NULL,
	`name` text NOT NULL,
	`type` text NOT NULL,
	`prev_rev` integer NOT NULL,
	`object` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `changes_cas` ON `changes` (`resource`,`namespace`,`name`,`prev_rev`);--> statement-breakpoint
CREATE INDEX `changes_key_rev` ON `changes` (`resource`,`namespace`,`name`,`rev`);--> statement-breakpoint
CREATE INDEX `changes_resource_rev` ON `changes` (`resource`,`rev`);--> statement-breakpoint
CREATE TABLE `meta` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `objects` (
	`resource` text NOT NULL,
	`namespace` text NOT NULL,
	`name` text NOT NULL,
	`uid` text NOT NULL,
	`rev` integer NOT NULL,
	`node_name` text,
	`phase` text,
	`labels` text,
	`object` text NOT NULL,
	PRIMARY KEY(`resource`, `namespace`, `name`)
);
--> statement-breakpoint
CREATE INDEX `objects_node` ON `objects` (`resource`,`node_name`);--> statement-breakpoint
CREATE INDEX `objects_uid` ON `objects` (`uid`);--> statement-breakpoint
CREATE INDEX `objects_rev` ON `objects` (`rev`);--> statement-breakpoint
CREATE TABLE `owner_refs` (
	`owner_uid` text NOT NULL,
	`resource` text NOT NULL,
	`namespace` text NOT NULL,
	`name` text NOT NULL,
	`controller` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`owner_uid`, `resource`, `namespace`, `name`)
);
--> statement-breakpoint
CREATE INDEX `owner_refs_object` ON `owner_refs` (`resource`,`namespace`,`name`);