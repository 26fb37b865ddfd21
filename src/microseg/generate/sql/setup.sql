create macro u(a, b, k) as ((hash(a, b, k, ${seed}) % 1000003) / 1000003.0);
create macro hex_id(a, b, k) as
printf('%016x', hash(a, b, k, ${seed}));
create table archetypes as
select v.* from (values ${archetype_rows}) as v (${archetype_columns});
